;; Claims a result of 100,000,000 bytes at address 0.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "transform") (param i32 i32) (result i64)
    (i64.const 100000000)))
