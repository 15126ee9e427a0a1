/*
 * addon.c: module initialisation and the export table (functions and the tables of numbers that
 * TypeScript uses, so that no table is written twice). No logic; the per-environment state is
 * env.c's.
 */
#include <dlfcn.h>
#include <pthread.h>

#include "exit.h"
#include "js_api.h"
#include "js_plan.h"
#include "js_test.h"
#include "js_util.h"
#include "spawn.h"
#include "tee.h"
#include "tree_signal.h"
#include "watch.h"
#include "watchdog.h"

/* The numbers TypeScript puts in a plan or reads in an exit record, by name. */
static napi_value pf_constants(napi_env env) {
  napi_value c;
  napi_create_object(env, &c);
  napi_set_named_property(env, c, "stdioKind",
                          pf_table_of_names(env, pf_stdio_kind_names, PF_STDIO_KIND_COUNT));
  napi_set_named_property(env, c, "backend",
                          pf_table_of_names(env, pf_backend_names, PF_BACKEND_COUNT));
  napi_set_named_property(env, c, "watchKind",
                          pf_table_of_names(env, pf_watch_kind_names, PF_WATCH_KIND_COUNT));
  napi_set_named_property(env, c, "watcher",
                          pf_table_of_names(env, pf_watch_impl_names, PF_WATCH_IMPL_COUNT));
  napi_set_named_property(env, c, "exitHow",
                          pf_table_of_names(env, pf_exit_how_names, PF_EXIT_HOW_COUNT));
  napi_set_named_property(env, c, "watchdogOp",
                          pf_table_of_names(env, pf_watchdog_op_names, PF_WATCHDOG_OP_COUNT));
  pf_set_int(env, c, "watchdogRecordSize", PF_WATCHDOG_RECORD_SIZE);
  napi_value continues;
  napi_create_array_with_length(env, PF_MAX_SIGNAL + 1, &continues);
  for (int sig = 0; sig <= PF_MAX_SIGNAL; sig++) {
    napi_value v;
    napi_get_boolean(env, pf_tree_signal_continues(sig), &v);
    napi_set_element(env, continues, (uint32_t)sig, v);
  }
  napi_set_named_property(env, c, "treeSignalContinues", continues);
  napi_value fields = pf_table_of_names(env, pf_exit_field_names, PF_EXIT_FIELDS);
  pf_set_int(env, fields, "count", PF_EXIT_FIELDS);
  napi_set_named_property(env, c, "exitField", fields);
  napi_set_named_property(env, c, "teeCall",
                          pf_table_of_names(env, pf_tee_call_names, PF_TEE_CALL_COUNT));
  napi_set_named_property(env, c, "planField",
                          pf_table_of_names(env, pf_plan_field_names, PF_PLAN_FIELD_COUNT));
  return c;
}

/* Writable, so that tests can observe which calls the library makes. */
#define PF_FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default_method, NULL}
#define PF_VALUE(name, value) {name, NULL, NULL, NULL, NULL, value, napi_enumerable, NULL}

/* The module stays mapped until the process ends, however many environments load it and end.
 * Some of its code runs after an environment is gone: the thread that reaps the children of an
 * environment that ended before they did (watch.c), and whatever callback a runtime delivers
 * late (a threadsafe function's finalizer at teardown). A worker that is the only one to load
 * the addon ends by unloading it (Node dlcloses a worker's addons with its environment), and
 * such code would then run unmapped: a SIGSEGV for the whole process. RTLD_NODELETE on our own,
 * already loaded, object keeps it; a failure leaves things as they were (the environment's
 * teardown itself does not need it: watch_uv.c closes its handle before the module can go). */
static void pf_module_pin(void) {
  Dl_info self;
  if (dladdr((void *)pf_module_pin, &self) != 0 && self.dli_fname != NULL)
    (void)dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE); /* kept for good */
}

static pthread_once_t pf_module_pinned = PTHREAD_ONCE_INIT;

static napi_value pf_init(napi_env env, napi_value exports) {
  pthread_once(&pf_module_pinned, pf_module_pin);
  napi_property_descriptor props[] = {
      PF_FN("init", js_init),
      PF_FN("support", js_support),
      PF_FN("spawn", js_spawn),
      PF_FN("spawnSync", js_spawn_sync),
      PF_FN("planArray", js_plan_array),
      PF_FN("socketpair", js_socketpair),
      PF_FN("wait", js_wait),
      PF_FN("watch", js_watch),
      PF_FN("watchRef", js_watch_ref),
      PF_FN("unwatch", js_unwatch),
      PF_FN("watchCgroup", js_watch_cgroup),
      PF_FN("sendSignal", js_send_signal),
      PF_FN("pidfdOpen", js_pidfd_open),
      PF_FN("close", js_close),
      PF_FN("own", js_own),
      PF_FN("ownCgroupDir", js_own_cgroup_dir),
      PF_FN("closeOwned", js_close_owned),
      PF_FN("ownerOf", js_owner_of),
      PF_FN("dup", js_dup),
      PF_FN("inode", js_inode),
      PF_FN("openDirectory", js_open_directory),
      PF_FN("access", js_access),
      PF_FN("pidfdGetfd", js_pidfd_getfd),
      PF_FN("pidfdExited", js_pidfd_exited),
      PF_FN("pidfdGetInfo", js_pidfd_get_info),
      PF_FN("sendWithFd", js_send_with_fd),
      PF_FN("pipe", js_pipe),
      PF_FN("tee", js_tee),
      PF_FN("teeStop", js_tee_stop),
      PF_FN("adviseHugePages", js_advise_huge_pages),
      PF_FN("setPipeSize", js_set_pipe_size),
      PF_VALUE("constants", pf_constants(env)),
      PF_VALUE("test", pf_test_api(env)),
  };
  if (napi_define_properties(env, exports, PF_COUNT(props), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE_INIT() { return pf_init(env, exports); }
