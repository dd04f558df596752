;; Reports an error of its own.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"err\":\"no lead id in the body\"}")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "transform") (param i32 i32) (result i64)
    (i64.const 32)))
