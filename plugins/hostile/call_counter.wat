;; Counts its calls in a global and answers {"ok":[]} only on the first
;; call of its instance, {"err":"state leaked"} afterwards.
(module
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 0) "{\"ok\":[]}")
  (data (i32.const 16) "{\"err\":\"state leaked\"}")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "transform") (param i32 i32) (result i64)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (result i64) (i32.eq (global.get $calls) (i32.const 1))
      (then (i64.const 9))
      ;; (16 << 32) | 22
      (else (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 22))))))
