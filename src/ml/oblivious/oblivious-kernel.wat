;; The oblivious model's predictor (see oblivious-kernel.ts, which lays the model out in this memory).
;;
;; A row is binarized once against every border the trees use, as CatBoost does: one outcome byte a
;; test (a feature and a border), 16 tests compared at once in SIMD. Each tree's leaf index is
;; then its levels' outcome bytes, one bit a level, and the margin is the base margin plus each tree's
;; leaf value, added in tree order in float64 (the same sum, bit for bit, as a loop in JavaScript).
;;
;; NaN passes no border (every comparison with NaN is false): a missing value takes bit 0.
(module
  (memory (export "memory") 1)

  ;; Where the model is in memory, set once by `init` (oblivious-kernel.ts lays it out):
  ;;   features:  per feature, two i32: the first test of its borders, and how many borders it has
  ;;   borders:   f32 per test, ascending within each feature, then 16 +Infinity
  ;;   outcomes:  a byte per test, then 16 bytes that stay 0 (the first: the test a padded level makes)
  ;;   splits:    per tree, `depth` i32: the test of each level
  ;;   leaves:    f64 per leaf, 2^depth a tree
  ;;   blockOutcomes, columns: predictBlocks' outcome bytes (16 a test, then 16 that stay 0) and its
  ;;              scratch for a block's values (a feature's 16 side by side)
  (global $features (mut i32) (i32.const 0))
  (global $featureCount (mut i32) (i32.const 0))
  (global $borders (mut i32) (i32.const 0))
  (global $outcomes (mut i32) (i32.const 0))
  (global $blockOutcomes (mut i32) (i32.const 0))
  (global $columns (mut i32) (i32.const 0))
  (global $splits (mut i32) (i32.const 0))
  (global $trees (mut i32) (i32.const 0))
  (global $depth (mut i32) (i32.const 0))
  (global $leaves (mut i32) (i32.const 0))
  (global $base (mut f64) (f64.const 0))

  (func (export "init")
    (param $features i32) (param $featureCount i32) (param $borders i32) (param $outcomes i32)
    (param $blockOutcomes i32) (param $columns i32) (param $splits i32) (param $trees i32)
    (param $depth i32) (param $leaves i32) (param $base f64)
    (global.set $features (local.get $features))
    (global.set $featureCount (local.get $featureCount))
    (global.set $borders (local.get $borders))
    (global.set $outcomes (local.get $outcomes))
    (global.set $blockOutcomes (local.get $blockOutcomes))
    (global.set $columns (local.get $columns))
    (global.set $splits (local.get $splits))
    (global.set $trees (local.get $trees))
    (global.set $depth (local.get $depth))
    (global.set $leaves (local.get $leaves))
    (global.set $base (local.get $base)))

  ;; margins[r] for rows[r] (float32, `cols` a row), r < `rows`.
  (func (export "predict")
    (param $values i32) (param $rows i32) (param $cols i32) (param $margins i32)
    ;; The model's places, as locals: the loops read them on every tree.
    (local $features i32) (local $featureCount i32) (local $borders i32) (local $outcomes i32) (local $splits i32) (local $trees i32) (local $depth i32) (local $leaves i32) (local $base f64)
    (local $r i32) (local $row i32) (local $f i32) (local $first i32) (local $count i32)
    (local $lo i32) (local $mid i32) (local $value v128)
    (local $t i32) (local $split i32) (local $index i32) (local $level i32) (local $leaf i32)
    (local $margin f64)
    (local.set $features (global.get $features))
    (local.set $featureCount (global.get $featureCount))
    (local.set $borders (global.get $borders))
    (local.set $outcomes (global.get $outcomes))
    (local.set $splits (global.get $splits))
    (local.set $trees (global.get $trees))
    (local.set $depth (global.get $depth))
    (local.set $leaves (global.get $leaves))
    (local.set $base (global.get $base))
    (block $rowsDone
      (loop $eachRow
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row
          (i32.add (local.get $values) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        ;; Binarize: each test's outcome byte (1 when the value is at or above the border; NaN never), 16
        ;; of a feature's tests at once. The last 16 may run into the next feature's, which are written
        ;; after; past the last test the borders are +Infinity, so the byte a padded level reads stays 0.
        (local.set $f (i32.const 0))
        (block $featuresDone
          (loop $eachFeature
            (br_if $featuresDone (i32.ge_u (local.get $f) (local.get $featureCount)))
            (local.set $first (i32.load (i32.add (local.get $features) (i32.shl (local.get $f) (i32.const 3)))))
            (local.set $count
              (i32.load offset=4 (i32.add (local.get $features) (i32.shl (local.get $f) (i32.const 3)))))
            (local.set $value
              (f32x4.splat (f32.load (i32.add (local.get $row) (i32.shl (local.get $f) (i32.const 2))))))
            (local.set $lo (i32.const 0))
            (block $testsDone
              (loop $eachSixteen
                (br_if $testsDone (i32.ge_u (local.get $lo) (local.get $count)))
                (local.set $mid
                  (i32.add (local.get $borders)
                    (i32.shl (i32.add (local.get $first) (local.get $lo)) (i32.const 2))))
                (v128.store
                  (i32.add (local.get $outcomes) (i32.add (local.get $first) (local.get $lo)))
                  (v128.and
                    (i8x16.narrow_i16x8_s
                      (i16x8.narrow_i32x4_s
                        (f32x4.ge (local.get $value) (v128.load (local.get $mid)))
                        (f32x4.ge (local.get $value) (v128.load offset=16 (local.get $mid))))
                      (i16x8.narrow_i32x4_s
                        (f32x4.ge (local.get $value) (v128.load offset=32 (local.get $mid)))
                        (f32x4.ge (local.get $value) (v128.load offset=48 (local.get $mid)))))
                    (i8x16.splat (i32.const 1))))
                (local.set $lo (i32.add (local.get $lo) (i32.const 16)))
                (br $eachSixteen)))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $eachFeature)))
        ;; Each tree's leaf, in tree order.
        (local.set $margin (local.get $base))
        (local.set $t (i32.const 0))
        (local.set $split (local.get $splits))
        (local.set $leaf (local.get $leaves))
        (if (i32.eq (local.get $depth) (i32.const 6))
          (then
            (block $treesDone
              (loop $eachTree
                (br_if $treesDone (i32.ge_u (local.get $t) (local.get $trees)))
                (local.set $index
                  (i32.or
                    (i32.or
                      (i32.or
                        (i32.load8_u (i32.add (local.get $outcomes) (i32.load (local.get $split))))
                        (i32.shl
                          (i32.load8_u (i32.add (local.get $outcomes) (i32.load offset=4 (local.get $split))))
                          (i32.const 1)))
                      (i32.or
                        (i32.shl
                          (i32.load8_u (i32.add (local.get $outcomes) (i32.load offset=8 (local.get $split))))
                          (i32.const 2))
                        (i32.shl
                          (i32.load8_u (i32.add (local.get $outcomes) (i32.load offset=12 (local.get $split))))
                          (i32.const 3))))
                    (i32.or
                      (i32.shl
                        (i32.load8_u (i32.add (local.get $outcomes) (i32.load offset=16 (local.get $split))))
                        (i32.const 4))
                      (i32.shl
                        (i32.load8_u (i32.add (local.get $outcomes) (i32.load offset=20 (local.get $split))))
                        (i32.const 5)))))
                (local.set $margin
                  (f64.add (local.get $margin)
                    (f64.load (i32.add (local.get $leaf) (i32.shl (local.get $index) (i32.const 3))))))
                (local.set $split (i32.add (local.get $split) (i32.const 24)))
                (local.set $leaf (i32.add (local.get $leaf) (i32.const 512)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $eachTree))))
          (else
            (block $treesDone
              (loop $eachTree
                (br_if $treesDone (i32.ge_u (local.get $t) (local.get $trees)))
                (local.set $index (i32.const 0))
                (local.set $level (i32.const 0))
                (block $levelsDone
                  (loop $eachLevel
                    (br_if $levelsDone (i32.ge_u (local.get $level) (local.get $depth)))
                    (local.set $index
                      (i32.or (local.get $index)
                        (i32.shl
                          (i32.load8_u (i32.add (local.get $outcomes) (i32.load (local.get $split))))
                          (local.get $level))))
                    (local.set $split (i32.add (local.get $split) (i32.const 4)))
                    (local.set $level (i32.add (local.get $level) (i32.const 1)))
                    (br $eachLevel)))
                (local.set $margin
                  (f64.add (local.get $margin)
                    (f64.load (i32.add (local.get $leaf) (i32.shl (local.get $index) (i32.const 3))))))
                (local.set $leaf
                  (i32.add (local.get $leaf) (i32.shl (i32.const 8) (local.get $depth))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $eachTree)))))
        (f64.store
          (i32.add (local.get $margins) (i32.shl (local.get $r) (i32.const 3))) (local.get $margin))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $eachRow))))

;; The same for `blocks` blocks of 16 rows, trees of depth 6, in SIMD: the 16 rows' values of a feature
;; are compared with a border at once (their outcome bytes, 16 a test, side by side), and each tree's 16
;; leaf indexes are made at once from its levels' outcome bytes; the 16 leaf values are then added one
;; by one, each row's in tree order as `predict` adds them.
  (func (export "predictBlocks")
    (param $values i32) (param $blocks i32) (param $cols i32) (param $margins i32)
    ;; The model's places, as locals: the loops read them on every tree.
    (local $features i32) (local $featureCount i32) (local $borders i32) (local $blockOutcomes i32) (local $splits i32) (local $trees i32) (local $leaves i32) (local $base f64) (local $columns i32)
    (local $block i32) (local $rowStart i32) (local $r i32) (local $f i32) (local $first i32)
    (local $count i32) (local $test i32) (local $last i32) (local $border v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $index v128)
    (local $t i32) (local $split i32) (local $leaf i32) (local $out i32)
    (local $m0 f64) (local $m1 f64) (local $m2 f64) (local $m3 f64) (local $m4 f64) (local $m5 f64) (local $m6 f64) (local $m7 f64) (local $m8 f64) (local $m9 f64) (local $m10 f64) (local $m11 f64) (local $m12 f64) (local $m13 f64) (local $m14 f64) (local $m15 f64)
    (local.set $features (global.get $features))
    (local.set $featureCount (global.get $featureCount))
    (local.set $borders (global.get $borders))
    (local.set $blockOutcomes (global.get $blockOutcomes))
    (local.set $splits (global.get $splits))
    (local.set $trees (global.get $trees))
    (local.set $leaves (global.get $leaves))
    (local.set $base (global.get $base))
    (local.set $columns (global.get $columns))
    (block $blocksDone
      (loop $eachBlock
        (br_if $blocksDone (i32.ge_u (local.get $block) (local.get $blocks)))
        (local.set $rowStart
          (i32.add (local.get $values)
            (i32.shl (i32.mul (i32.shl (local.get $block) (i32.const 4)) (local.get $cols)) (i32.const 2))))
        ;; The block's values, feature by feature: columns[f * 16 + r] = row r's feature f.
        (local.set $r (i32.const 0))
        (block $transposed
          (loop $eachRow
            (br_if $transposed (i32.ge_u (local.get $r) (i32.const 16)))
            (local.set $f (i32.const 0))
            (block $rowDone
              (loop $eachValue
                (br_if $rowDone (i32.ge_u (local.get $f) (local.get $featureCount)))
                (f32.store
                  (i32.add (local.get $columns)
                    (i32.shl (i32.add (i32.shl (local.get $f) (i32.const 4)) (local.get $r)) (i32.const 2)))
                  (f32.load
                    (i32.add (local.get $rowStart)
                      (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $f)) (i32.const 2)))))
                (local.set $f (i32.add (local.get $f) (i32.const 1)))
                (br $eachValue)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $eachRow)))
        ;; Binarize: each test's 16 outcome bytes (1 when the value is at or above the border; NaN never).
        (local.set $f (i32.const 0))
        (block $featuresDone
          (loop $eachFeature
            (br_if $featuresDone (i32.ge_u (local.get $f) (local.get $featureCount)))
            (local.set $first (i32.load (i32.add (local.get $features) (i32.shl (local.get $f) (i32.const 3)))))
            (local.set $count
              (i32.load offset=4 (i32.add (local.get $features) (i32.shl (local.get $f) (i32.const 3)))))
            (local.set $v0 (v128.load (i32.add (local.get $columns) (i32.shl (local.get $f) (i32.const 6)))))
            (local.set $v1 (v128.load offset=16 (i32.add (local.get $columns) (i32.shl (local.get $f) (i32.const 6)))))
            (local.set $v2 (v128.load offset=32 (i32.add (local.get $columns) (i32.shl (local.get $f) (i32.const 6)))))
            (local.set $v3 (v128.load offset=48 (i32.add (local.get $columns) (i32.shl (local.get $f) (i32.const 6)))))
            (local.set $test (local.get $first))
            (local.set $last (i32.add (local.get $first) (local.get $count)))
            (block $testsDone
              (loop $eachTest
                (br_if $testsDone (i32.ge_u (local.get $test) (local.get $last)))
                (local.set $border
                  (f32x4.splat (f32.load (i32.add (local.get $borders) (i32.shl (local.get $test) (i32.const 2))))))
                (v128.store
                  (i32.add (local.get $blockOutcomes) (i32.shl (local.get $test) (i32.const 4)))
                  (v128.and
                    (i8x16.narrow_i16x8_s
                      (i16x8.narrow_i32x4_s
                        (f32x4.ge (local.get $v0) (local.get $border))
                        (f32x4.ge (local.get $v1) (local.get $border)))
                      (i16x8.narrow_i32x4_s
                        (f32x4.ge (local.get $v2) (local.get $border))
                        (f32x4.ge (local.get $v3) (local.get $border))))
                    (i8x16.splat (i32.const 1))))
                (local.set $test (i32.add (local.get $test) (i32.const 1)))
                (br $eachTest)))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $eachFeature)))
        ;; Each tree's 16 leaf indexes at once, then each row's leaf value, in tree order.
        (local.set $m0 (local.get $base))
        (local.set $m1 (local.get $base))
        (local.set $m2 (local.get $base))
        (local.set $m3 (local.get $base))
        (local.set $m4 (local.get $base))
        (local.set $m5 (local.get $base))
        (local.set $m6 (local.get $base))
        (local.set $m7 (local.get $base))
        (local.set $m8 (local.get $base))
        (local.set $m9 (local.get $base))
        (local.set $m10 (local.get $base))
        (local.set $m11 (local.get $base))
        (local.set $m12 (local.get $base))
        (local.set $m13 (local.get $base))
        (local.set $m14 (local.get $base))
        (local.set $m15 (local.get $base))
        (local.set $t (i32.const 0))
        (local.set $split (local.get $splits))
        (local.set $leaf (local.get $leaves))
        (block $treesDone
          (loop $eachTree
            (br_if $treesDone (i32.ge_u (local.get $t) (local.get $trees)))
                (local.set $index (v128.load (i32.add (local.get $blockOutcomes) (i32.shl (i32.load offset=0 (local.get $split)) (i32.const 4)))))
                (local.set $index (v128.or (local.get $index) (i8x16.shl (v128.load (i32.add (local.get $blockOutcomes) (i32.shl (i32.load offset=4 (local.get $split)) (i32.const 4)))) (i32.const 1))))
                (local.set $index (v128.or (local.get $index) (i8x16.shl (v128.load (i32.add (local.get $blockOutcomes) (i32.shl (i32.load offset=8 (local.get $split)) (i32.const 4)))) (i32.const 2))))
                (local.set $index (v128.or (local.get $index) (i8x16.shl (v128.load (i32.add (local.get $blockOutcomes) (i32.shl (i32.load offset=12 (local.get $split)) (i32.const 4)))) (i32.const 3))))
                (local.set $index (v128.or (local.get $index) (i8x16.shl (v128.load (i32.add (local.get $blockOutcomes) (i32.shl (i32.load offset=16 (local.get $split)) (i32.const 4)))) (i32.const 4))))
                (local.set $index (v128.or (local.get $index) (i8x16.shl (v128.load (i32.add (local.get $blockOutcomes) (i32.shl (i32.load offset=20 (local.get $split)) (i32.const 4)))) (i32.const 5))))
                (local.set $m0 (f64.add (local.get $m0)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 0 (local.get $index)) (i32.const 3))))))
                (local.set $m1 (f64.add (local.get $m1)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 1 (local.get $index)) (i32.const 3))))))
                (local.set $m2 (f64.add (local.get $m2)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 2 (local.get $index)) (i32.const 3))))))
                (local.set $m3 (f64.add (local.get $m3)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 3 (local.get $index)) (i32.const 3))))))
                (local.set $m4 (f64.add (local.get $m4)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 4 (local.get $index)) (i32.const 3))))))
                (local.set $m5 (f64.add (local.get $m5)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 5 (local.get $index)) (i32.const 3))))))
                (local.set $m6 (f64.add (local.get $m6)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 6 (local.get $index)) (i32.const 3))))))
                (local.set $m7 (f64.add (local.get $m7)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 7 (local.get $index)) (i32.const 3))))))
                (local.set $m8 (f64.add (local.get $m8)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 8 (local.get $index)) (i32.const 3))))))
                (local.set $m9 (f64.add (local.get $m9)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 9 (local.get $index)) (i32.const 3))))))
                (local.set $m10 (f64.add (local.get $m10)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 10 (local.get $index)) (i32.const 3))))))
                (local.set $m11 (f64.add (local.get $m11)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 11 (local.get $index)) (i32.const 3))))))
                (local.set $m12 (f64.add (local.get $m12)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 12 (local.get $index)) (i32.const 3))))))
                (local.set $m13 (f64.add (local.get $m13)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 13 (local.get $index)) (i32.const 3))))))
                (local.set $m14 (f64.add (local.get $m14)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 14 (local.get $index)) (i32.const 3))))))
                (local.set $m15 (f64.add (local.get $m15)
                  (f64.load (i32.add (local.get $leaf) (i32.shl (i8x16.extract_lane_u 15 (local.get $index)) (i32.const 3))))))
            (local.set $split (i32.add (local.get $split) (i32.const 24)))
            (local.set $leaf (i32.add (local.get $leaf) (i32.const 512)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $eachTree)))
        (local.set $out (i32.add (local.get $margins) (i32.shl (local.get $block) (i32.const 7))))
        (f64.store offset=0 (local.get $out) (local.get $m0))
        (f64.store offset=8 (local.get $out) (local.get $m1))
        (f64.store offset=16 (local.get $out) (local.get $m2))
        (f64.store offset=24 (local.get $out) (local.get $m3))
        (f64.store offset=32 (local.get $out) (local.get $m4))
        (f64.store offset=40 (local.get $out) (local.get $m5))
        (f64.store offset=48 (local.get $out) (local.get $m6))
        (f64.store offset=56 (local.get $out) (local.get $m7))
        (f64.store offset=64 (local.get $out) (local.get $m8))
        (f64.store offset=72 (local.get $out) (local.get $m9))
        (f64.store offset=80 (local.get $out) (local.get $m10))
        (f64.store offset=88 (local.get $out) (local.get $m11))
        (f64.store offset=96 (local.get $out) (local.get $m12))
        (f64.store offset=104 (local.get $out) (local.get $m13))
        (f64.store offset=112 (local.get $out) (local.get $m14))
        (f64.store offset=120 (local.get $out) (local.get $m15))
        (local.set $block (i32.add (local.get $block) (i32.const 1)))
        (br $eachBlock))))
)
