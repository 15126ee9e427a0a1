/*
 * js_test.h: the test-only part of the binding (js_test.c).
 */
#ifndef PIDFD_JS_TEST_H
#define PIDFD_JS_TEST_H

#include <node_api.h>

/* The object exported as the binding's `test`: functions and the test hooks' constants. */
napi_value pf_test_api(napi_env env);

#endif
