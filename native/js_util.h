/*
 * js_util.h: Node-API marshalling for the entry points. Every reader returns 1 on success and 0
 * with a JavaScript exception pending (a TypeError naming the argument: misuse of the binding,
 * which src/binding.ts never does); every writer ignores failures, which Node-API reports only
 * when the environment is already going away.
 */
#ifndef PIDFD_JS_UTIL_H
#define PIDFD_JS_UTIL_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* Throws a TypeError with code ERR_PIDFD_BINDING; returns 0 so that readers can `return` it. */
int pf_throw_type(napi_env env, const char *what);

/* Throws ENOMEM; returns 0. */
int pf_throw_nomem(napi_env env);

/* Exactly `want` arguments (more are ignored). */
int pf_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);

int pf_to_int(napi_env env, napi_value v, const char *name, int32_t *out);
int pf_to_double(napi_env env, napi_value v, const char *name, double *out);
int pf_to_bool(napi_env env, napi_value v, const char *name, int *out);
/* A string argument copied out as UTF-8 into malloc'd memory (the caller frees it). */
int pf_to_string(napi_env env, napi_value v, const char *name, char **out);

/*
 * Property keys, made once per environment. napi_get_named_property makes a JavaScript string of
 * its C key, and looks it up in V8's string table, at every call: for the twenty-odd properties
 * of one spawn that was a measurable part of the parent's CPU (docs/benchmarks.md). A key is
 * made once and kept in an array that the environment holds by a reference (Node-API before
 * version 10 has no reference to a string; V8 internalizes the string at its first lookup), and
 * found again by its address: `name` must be a string literal, or static storage that never
 * changes. When the table is full, a key is made at each call, as before.
 */
#define PF_KEYS_MAX 40
struct pf_keys {
  int n;
  const char *name[PF_KEYS_MAX];
  napi_ref array; /* element i is the string of name[i] */
};

/* The key `name` (see struct pf_keys) of this environment; 0 with an exception pending. */
int pf_key(napi_env env, const char *name, napi_value *out);

/* Properties of a plan object, by key (a string literal: see pf_key). The _or readers take
 * `fallback` for undefined (an absent key). */
int pf_prop(napi_env env, napi_value obj, const char *key, napi_value *out);
int pf_prop_int(napi_env env, napi_value obj, const char *key, int32_t *out);
int pf_prop_int_or(napi_env env, napi_value obj, const char *key, int32_t fallback, int32_t *out);
int pf_prop_double(napi_env env, napi_value obj, const char *key, double *out);
int pf_prop_bool(napi_env env, napi_value obj, const char *key, int *out);

/* A typed array of type `want` (a value, or a property): its elements; *present is 0 for null
 * or undefined. An empty typed array may have no backing store (data NULL): only *present tells
 * it from null. */
int pf_value_typed(napi_env env, napi_value v, const char *name, napi_typedarray_type want,
                   void **data, size_t *length, int *present);
int pf_prop_typed(napi_env env, napi_value obj, const char *key, napi_typedarray_type want,
                  void **data, size_t *length, int *present);

/* A string (a value, or a property) copied out as UTF-8 into malloc'd memory (*out NULL for
 * null/undefined). */
int pf_value_string(napi_env env, napi_value v, const char *name, char **out, size_t *len_out);
int pf_prop_string(napi_env env, napi_value obj, const char *key, char **out, size_t *len_out);

/*
 * A list of strings, as src/binding.ts sends one: every element followed by a NUL ("a\0b\0";
 * the empty list is ""). Copied into one malloc'd block: *block holds the characters, *vec the
 * NULL-terminated pointers into it, with `spare` more NULL slots at the end for the caller.
 * *vec is NULL for null/undefined.
 */
int pf_value_strings(napi_env env, napi_value v, const char *name, size_t spare, char **block,
                     char ***vec, size_t *count);

napi_value pf_int(napi_env env, int64_t n);
void pf_set_int(napi_env env, napi_value obj, const char *key, int64_t n);
void pf_set_str(napi_env env, napi_value obj, const char *key, const char *s);
void pf_set_bool(napi_env env, napi_value obj, const char *key, int b);
/* Sets obj[key] = v, with the key of pf_key (for the objects a spawn returns). */
void pf_set_keyed(napi_env env, napi_value obj, const char *key, napi_value v);

/* One entry of a table of names and numbers that the addon exports (see addon.c). */
struct pf_name_value {
  const char *name;
  int64_t value;
};

/* An object { name: value, ... } from a table of n entries. */
napi_value pf_table(napi_env env, const struct pf_name_value *table, size_t n);

/* The same, from an array of names indexed by value (NULL entries skipped). */
napi_value pf_table_of_names(napi_env env, const char *const *names, size_t n);

#define PF_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* This environment's state once init() has run; NULL with an exception pending before that (or
 * when the state cannot be made). */
struct pf_env;
struct pf_env *pf_started_env(napi_env env);

#endif
