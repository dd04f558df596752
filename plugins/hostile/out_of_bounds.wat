;; Points its result past the end of its one-page memory.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "transform") (param i32 i32) (result i64)
    ;; (65000 << 32) | 1000
    (i64.or (i64.shl (i64.const 65000) (i64.const 32)) (i64.const 1000))))
