{
  "targets": [
    {
      "target_name": "pidfd",
      "sources": [
        "native/addon.c",
        "native/env.c",
        "native/js_api.c",
        "native/js_fds.c",
        "native/js_plan.c",
        "native/js_test.c",
        "native/js_util.c",
        "native/exit.c",
        "native/fdops.c",
        "native/owned.c",
        "native/create.c",
        "native/spawn.c",
        "native/sync.c",
        "native/cgroup_signal.c",
        "native/tee.c",
        "native/child.c",
        "native/clone.c",
        "native/probe.c",
        "native/watch.c",
        "native/watch_thread.c",
        "native/watch_uv.c"
      ],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl"] }],
        ["OS!='linux'", { "sources!": [
          "native/addon.c", "native/env.c", "native/js_api.c", "native/js_fds.c", "native/js_plan.c", "native/js_test.c",
          "native/js_util.c", "native/exit.c", "native/fdops.c", "native/owned.c", "native/create.c",
          "native/spawn.c", "native/sync.c", "native/cgroup_signal.c", "native/tee.c", "native/child.c", "native/clone.c",
          "native/probe.c", "native/watch.c", "native/watch_thread.c", "native/watch_uv.c"
        ], "sources": ["native/unsupported.c"] }]
      ]
    }
  ],
  "conditions": [
    ["OS=='linux'", { "targets": [
      {
        "target_name": "pidfd-watchdog",
        "type": "executable",
        "sources": ["native/watchdog.c", "native/cgroup_signal.c"],
        "defines": ["_GNU_SOURCE"],
        "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"]
      }
    ] }]
  ]
}
