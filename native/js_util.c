/*
 * js_util.c: Node-API marshalling for the entry points (see js_util.h).
 */
#include "js_util.h"

#include "env.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int pf_throw_type(napi_env env, const char *what) {
  napi_throw_type_error(env, "ERR_PIDFD_BINDING", what);
  return 0;
}

int pf_throw_nomem(napi_env env) {
  napi_throw_error(env, "ENOMEM", "pidfd: out of memory");
  return 0;
}

int pf_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want)
    return pf_throw_type(env, "binding: too few arguments");
  return 1;
}

int pf_to_int(napi_env env, napi_value v, const char *name, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) return pf_throw_type(env, name);
  return 1;
}

int pf_to_double(napi_env env, napi_value v, const char *name, double *out) {
  if (napi_get_value_double(env, v, out) != napi_ok) return pf_throw_type(env, name);
  return 1;
}

int pf_to_bool(napi_env env, napi_value v, const char *name, int *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return pf_throw_type(env, name);
  *out = b;
  return 1;
}

int pf_to_string(napi_env env, napi_value v, const char *name, char **out) {
  napi_valuetype t;
  size_t len;
  *out = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string ||
      napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
    return pf_throw_type(env, name);
  *out = malloc(len + 1);
  if (*out == NULL) return pf_throw_nomem(env);
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  return 1;
}

int pf_key(napi_env env, const char *name, napi_value *out) {
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return 0;
  struct pf_keys *k = &e->keys;
  napi_value array = NULL;
  if (k->array != NULL && napi_get_reference_value(env, k->array, &array) != napi_ok) array = NULL;
  if (array != NULL)
    for (int i = 0; i < k->n; i++)
      if (k->name[i] == name) return napi_get_element(env, array, (uint32_t)i, out) == napi_ok;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, out) != napi_ok) return 0;
  if (array == NULL && k->array == NULL && napi_create_array(env, &array) == napi_ok &&
      napi_create_reference(env, array, 1, &k->array) != napi_ok)
    array = NULL;
  if (array != NULL && k->n < PF_KEYS_MAX && napi_set_element(env, array, (uint32_t)k->n, *out) == napi_ok)
    k->name[k->n++] = name;
  return 1;
}

int pf_prop(napi_env env, napi_value obj, const char *key, napi_value *out) {
  napi_value k;
  if (!pf_key(env, key, &k)) return 0;
  if (napi_get_property(env, obj, k, out) != napi_ok) return pf_throw_type(env, key);
  return 1;
}

int pf_prop_int(napi_env env, napi_value obj, const char *key, int32_t *out) {
  napi_value v;
  return pf_prop(env, obj, key, &v) && pf_to_int(env, v, key, out);
}

int pf_prop_int_or(napi_env env, napi_value obj, const char *key, int32_t fallback, int32_t *out) {
  napi_value v;
  napi_valuetype t;
  if (!pf_prop(env, obj, key, &v) || napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_undefined) {
    *out = fallback;
    return 1;
  }
  return pf_to_int(env, v, key, out);
}

int pf_prop_double(napi_env env, napi_value obj, const char *key, double *out) {
  napi_value v;
  return pf_prop(env, obj, key, &v) && pf_to_double(env, v, key, out);
}

int pf_prop_bool(napi_env env, napi_value obj, const char *key, int *out) {
  napi_value v;
  return pf_prop(env, obj, key, &v) && pf_to_bool(env, v, key, out);
}

int pf_value_typed(napi_env env, napi_value v, const char *name, napi_typedarray_type want,
                   void **data, size_t *length, int *present) {
  napi_valuetype t;
  bool is_typed;
  napi_typedarray_type type;
  *data = NULL;
  *length = 0;
  *present = 0;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) return 1;
  *present = 1;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok || type != want)
    return pf_throw_type(env, name);
  return 1;
}

int pf_prop_typed(napi_env env, napi_value obj, const char *key, napi_typedarray_type want,
                  void **data, size_t *length, int *present) {
  napi_value v;
  *present = 0;
  return pf_prop(env, obj, key, &v) && pf_value_typed(env, v, key, want, data, length, present);
}

int pf_value_string(napi_env env, napi_value v, const char *name, char **out, size_t *len_out) {
  napi_valuetype t;
  size_t len;
  *out = NULL;
  if (len_out != NULL) *len_out = 0;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) return 1;
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
    return pf_throw_type(env, name);
  *out = malloc(len + 1);
  if (*out == NULL) return pf_throw_nomem(env);
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  if (len_out != NULL) *len_out = len;
  return 1;
}

int pf_prop_string(napi_env env, napi_value obj, const char *key, char **out, size_t *len_out) {
  napi_value v;
  *out = NULL;
  return pf_prop(env, obj, key, &v) && pf_value_string(env, v, key, out, len_out);
}

int pf_value_strings(napi_env env, napi_value v, const char *name, size_t spare, char **block,
                     char ***vec, size_t *count) {
  size_t len, n = 0;
  *vec = NULL;
  *count = 0;
  if (!pf_value_string(env, v, name, block, &len)) return 0;
  if (*block == NULL) return 1;
  if (len > 0 && (*block)[len - 1] != '\0') {
    free(*block);
    *block = NULL;
    return pf_throw_type(env, name); /* every element ends with a NUL */
  }
  for (size_t i = 0; i < len; i++) n += (*block)[i] == '\0';
  *vec = malloc((n + 1 + spare) * sizeof **vec);
  if (*vec == NULL) {
    free(*block);
    *block = NULL;
    return pf_throw_nomem(env);
  }
  char *s = *block;
  for (size_t k = 0; k < n; k++) {
    (*vec)[k] = s;
    s += strlen(s) + 1;
  }
  for (size_t k = n; k < n + 1 + spare; k++) (*vec)[k] = NULL;
  *count = n;
  return 1;
}

napi_value pf_int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

void pf_set_int(napi_env env, napi_value obj, const char *key, int64_t n) {
  napi_set_named_property(env, obj, key, pf_int(env, n));
}

void pf_set_keyed(napi_env env, napi_value obj, const char *key, napi_value v) {
  napi_value k;
  if (pf_key(env, key, &k)) napi_set_property(env, obj, k, v);
}

void pf_set_str(napi_env env, napi_value obj, const char *key, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

void pf_set_bool(napi_env env, napi_value obj, const char *key, int b) {
  napi_value v;
  napi_get_boolean(env, b != 0, &v);
  napi_set_named_property(env, obj, key, v);
}

napi_value pf_table(napi_env env, const struct pf_name_value *table, size_t n) {
  napi_value obj;
  napi_create_object(env, &obj);
  for (size_t i = 0; i < n; i++) pf_set_int(env, obj, table[i].name, table[i].value);
  return obj;
}

napi_value pf_table_of_names(napi_env env, const char *const *names, size_t n) {
  napi_value obj;
  napi_create_object(env, &obj);
  for (size_t i = 0; i < n; i++)
    if (names[i] != NULL) pf_set_int(env, obj, names[i], (int64_t)i);
  return obj;
}

struct pf_env *pf_started_env(napi_env env) {
  struct pf_env *e = pf_env_get(env);
  if (e != NULL && !e->started) {
    napi_throw_error(env, "ERR_PIDFD_BINDING", "binding: init() was not called");
    return NULL;
  }
  return e;
}
