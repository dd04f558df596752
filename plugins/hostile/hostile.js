// A JavaScript plugin that attacks the sandbox: the attack is chosen by the
// config's `attack`. Used by host/src/plugins/js_tests.rs.
let calls = 0;

export function transform(config, request) {
  calls += 1;
  switch (config.attack) {
    case "loop":
      for (;;) {}
    case "memory": {
      const kept = [];
      for (;;) kept.push(new ArrayBuffer(1 << 20));
    }
    case "recursion": {
      const deeper = (depth) => deeper(depth + 1) + 1;
      return deeper(0);
    }
    case "output":
      return [{ lead_profile_uid: "x".repeat(200000), funnel_stage: "Won" }];
    case "throw":
      throw new Error("no lead id in the body");
    case "throw-string":
      throw "plain text";
    case "reject":
      return Promise.reject(new TypeError("rejected"));
    case "ambient":
      return [{
        now: Date.now(),
        date: new Date().toISOString(),
        random: [Math.random(), Math.random()],
        calls,
        globals: [typeof fetch, typeof require, typeof process, typeof std, typeof os],
      }];
    default:
      return Promise.resolve([{ lead_profile_uid: request.body.id, funnel_stage: "Won" }]);
  }
}
