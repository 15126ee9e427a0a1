/*
 * js_api.h: the Node-API entry points (js_api.c: starting a child; js_fds.c: descriptors),
 * exported by addon.c. src/binding.ts declares their JavaScript side (interface NativeBinding).
 */
#ifndef PIDFD_JS_API_H
#define PIDFD_JS_API_H

#include <node_api.h>

napi_value js_init(napi_env env, napi_callback_info info);
napi_value js_support(napi_env env, napi_callback_info info);
napi_value js_spawn(napi_env env, napi_callback_info info);
napi_value js_spawn_sync(napi_env env, napi_callback_info info);
napi_value js_socketpair(napi_env env, napi_callback_info info);
napi_value js_watch(napi_env env, napi_callback_info info);
napi_value js_watch_ref(napi_env env, napi_callback_info info);
napi_value js_unwatch(napi_env env, napi_callback_info info);
napi_value js_watch_cgroup(napi_env env, napi_callback_info info);
napi_value js_send_signal(napi_env env, napi_callback_info info);
napi_value js_pidfd_open(napi_env env, napi_callback_info info);
napi_value js_close(napi_env env, napi_callback_info info);
napi_value js_dup(napi_env env, napi_callback_info info);
napi_value js_inode(napi_env env, napi_callback_info info);
napi_value js_open_directory(napi_env env, napi_callback_info info);
napi_value js_access(napi_env env, napi_callback_info info);
napi_value js_pidfd_getfd(napi_env env, napi_callback_info info);
napi_value js_pidfd_exited(napi_env env, napi_callback_info info);
napi_value js_pidfd_get_info(napi_env env, napi_callback_info info);
napi_value js_wait(napi_env env, napi_callback_info info);
napi_value js_own(napi_env env, napi_callback_info info);
napi_value js_own_cgroup_dir(napi_env env, napi_callback_info info);
napi_value js_close_owned(napi_env env, napi_callback_info info);
napi_value js_owner_of(napi_env env, napi_callback_info info);
napi_value js_send_with_fd(napi_env env, napi_callback_info info);
napi_value js_pipe(napi_env env, napi_callback_info info);
napi_value js_tee(napi_env env, napi_callback_info info);
napi_value js_tee_stop(napi_env env, napi_callback_info info);
napi_value js_advise_huge_pages(napi_env env, napi_callback_info info);
napi_value js_set_pipe_size(napi_env env, napi_callback_info info);

#endif
