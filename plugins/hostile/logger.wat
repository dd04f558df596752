;; Logs a line, then returns no updates.
(module
  (import "switchyard_v1" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"ok\":[]}")
  (data (i32.const 16) "hello from the sandbox")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "transform") (param i32 i32) (result i64)
    (call $log (i32.const 16) (i32.const 22))
    (i64.const 9)))
