;; Asks for a host function that does not exist.
(module
  (import "env" "steal" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "transform") (param i32 i32) (result i64) (i64.const 0)))
