;; Returns text that is not JSON.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "hello, host")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "transform") (param i32 i32) (result i64)
    (i64.const 11)))
