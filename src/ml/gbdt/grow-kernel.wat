;; The gbdt grower's histogram and split search (see grow-kernel.ts, which lays the data out in this
;; memory, and grower.ts, which grows the tree with them).
;;
;; A histogram is a (gradient, hessian) pair of float64 per bin slot, the missing values' slot last. The
;; sums are added in the same order as a loop in JavaScript would add them, so every histogram, gain and
;; split is the same, bit for bit (f64x2 adds and subtracts each lane as a float64 add does).
(module
  (memory (export "memory") 1)

  ;; Where the fit's data is in memory, set once by `init`:
  ;;   slots:      per cell (row-major), the histogram slot of its value: u16, or u32 when `wide` (`bin`
;;               writes them)
  ;;   gh:         per row, its gradient and hessian (two f64)
  ;;   rows:       the tree's row buffer (u32 row numbers, partitioned in place as the tree grows)
;;   scratch:    room for a node's right rows while it is partitioned (u32)
  ;;   features:   the features a histogram or a split search covers (i32), written before each call
  ;;   binStart:   per feature and one past the last, its first slot (i32)
  ;;   hasMissing: per feature, 1 if a training row has it missing (u8, set by `bin`)
  ;;   binList:    bestSplit's list of one feature's bins that hold rows (an i32 a bin)
;;   result:     what bestSplit found: gain, gradient and hessian sums of the left side, bin, default
  ;;               left (five f64)
  (global $slots (mut i32) (i32.const 0))
  (global $wide (mut i32) (i32.const 0))
  (global $gh (mut i32) (i32.const 0))
  (global $rows (mut i32) (i32.const 0))
  (global $scratch (mut i32) (i32.const 0))
  (global $features (mut i32) (i32.const 0))
  (global $binStart (mut i32) (i32.const 0))
  (global $hasMissing (mut i32) (i32.const 0))
  (global $result (mut i32) (i32.const 0))
  (global $binList (mut i32) (i32.const 0))
  (global $cols (mut i32) (i32.const 0))
  (global $histBytes (mut i32) (i32.const 0))
  ;; The regularization (XGBoost's reg_lambda, reg_alpha, max_delta_step) and min_child_weight.
  (global $lambda (mut f64) (f64.const 0))
  (global $alpha (mut f64) (f64.const 0))
  (global $maxDelta (mut f64) (f64.const 0))
  (global $minChild (mut f64) (f64.const 0))

  (func (export "init")
    (param $slots i32) (param $wide i32) (param $gh i32) (param $rows i32) (param $scratch i32) (param $features i32)
    (param $binStart i32) (param $hasMissing i32) (param $binList i32) (param $result i32) (param $cols i32)
    (param $histBytes i32)
    (param $lambda f64) (param $alpha f64) (param $maxDelta f64) (param $minChild f64)
    (global.set $slots (local.get $slots))
    (global.set $wide (local.get $wide))
    (global.set $gh (local.get $gh))
    (global.set $rows (local.get $rows))
    (global.set $scratch (local.get $scratch))
    (global.set $features (local.get $features))
    (global.set $binStart (local.get $binStart))
    (global.set $hasMissing (local.get $hasMissing))
    (global.set $binList (local.get $binList))
    (global.set $result (local.get $result))
    (global.set $cols (local.get $cols))
    (global.set $histBytes (local.get $histBytes))
    (global.set $lambda (local.get $lambda))
    (global.set $alpha (local.get $alpha))
    (global.set $maxDelta (local.get $maxDelta))
    (global.set $minChild (local.get $minChild)))

  ;; Bins rows [first, first + count) of the training matrix into `slots`, from their float64 values at
  ;; `values` (row-major): a value's bin is the number of its feature's thresholds it is not below, compared as float32
  ;; (as XGBoost does, binning.ts's binMatrix), by binary search in `cuts` (f32, `cutStart` i32 per
  ;; feature and one past the last, where each feature's begin); its slot is its feature's first plus
  ;; its bin. NaN (missing) takes the last slot and marks the feature in `hasMissing`.
  (func (export "bin") (param $values i32) (param $firstRow i32) (param $count i32) (param $cuts i32) (param $cutStart i32)
    (local $cols i32) (local $slots i32) (local $wide i32) (local $missingSlot i32)
    (local $cell i32) (local $cells i32) (local $at i32) (local $f i32) (local $value f64) (local $narrow f32)
    (local $first i32) (local $low i32) (local $high i32) (local $mid i32) (local $slot i32)
    (local.set $cols (global.get $cols))
    (local.set $slots (global.get $slots))
    (local.set $wide (global.get $wide))
    (local.set $missingSlot (i32.sub (i32.shr_u (global.get $histBytes) (i32.const 4)) (i32.const 1)))
    (local.set $cell (i32.mul (local.get $firstRow) (local.get $cols)))
    (local.set $cells (i32.add (local.get $cell) (i32.mul (local.get $count) (local.get $cols))))
    (local.set $at (local.get $values))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $cell) (local.get $cells)))
        (local.set $value (f64.load (local.get $at)))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (if (f64.ne (local.get $value) (local.get $value))
          (then
            (local.set $slot (local.get $missingSlot))
            (i32.store8 (i32.add (global.get $hasMissing) (local.get $f)) (i32.const 1)))
          (else
            (local.set $narrow (f32.demote_f64 (local.get $value)))
            (local.set $first (i32.load (i32.add (local.get $cutStart) (i32.shl (local.get $f) (i32.const 2)))))
            (local.set $low (i32.const 0))
            (local.set $high
              (i32.sub
                (i32.load (i32.add (local.get $cutStart) (i32.shl (i32.add (local.get $f) (i32.const 1)) (i32.const 2))))
                (local.get $first)))
            (block $found
              (loop $search
                (br_if $found (i32.ge_u (local.get $low) (local.get $high)))
                (local.set $mid (i32.shr_u (i32.add (local.get $low) (local.get $high)) (i32.const 1)))
                (if
                  (f32.le
                    (f32.load (i32.add (local.get $cuts) (i32.shl (i32.add (local.get $first) (local.get $mid)) (i32.const 2))))
                    (local.get $narrow))
                  (then (local.set $low (i32.add (local.get $mid) (i32.const 1))))
                  (else (local.set $high (local.get $mid))))
                (br $search)))
            (local.set $slot
              (i32.add
                (i32.load (i32.add (global.get $binStart) (i32.shl (local.get $f) (i32.const 2))))
                (local.get $low)))))
        (if (local.get $wide)
          (then (i32.store (i32.add (local.get $slots) (i32.shl (local.get $cell) (i32.const 2))) (local.get $slot)))
          (else (i32.store16 (i32.add (local.get $slots) (i32.shl (local.get $cell) (i32.const 1))) (local.get $slot))))
        (local.set $cell (i32.add (local.get $cell) (i32.const 1)))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (if (i32.eq (local.get $f) (local.get $cols)) (then (local.set $f (i32.const 0))))
        (br $each))))

  ;; The histogram at `hist` of rows[start .. end), over the first `count` features of `features` (all
  ;; the columns when `count` is the column count: then the cells are read in order, without the list).
  (func (export "histogram") (param $hist i32) (param $start i32) (param $end i32) (param $count i32)
    (local $cols i32) (local $slots i32) (local $gh i32) (local $features i32) (local $wide i32)
    (local $k i32) (local $row i32) (local $pair v128) (local $cell i32) (local $stop i32) (local $at i32)
    (local $j i32)
    (local.set $cols (global.get $cols))
    (local.set $slots (global.get $slots))
    (local.set $gh (global.get $gh))
    (local.set $features (global.get $features))
    (local.set $wide (global.get $wide))
    (memory.fill (local.get $hist) (i32.const 0) (global.get $histBytes))
    (local.set $k (local.get $start))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $row (i32.load (i32.add (global.get $rows) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $pair (v128.load (i32.add (local.get $gh) (i32.shl (local.get $row) (i32.const 4)))))
        (if (i32.and (i32.eq (local.get $count) (local.get $cols)) (i32.eqz (local.get $wide)))
          (then
            ;; Every column, u16 slots: the row's cells one after the other.
            (local.set $cell
              (i32.add (local.get $slots) (i32.shl (i32.mul (local.get $row) (local.get $cols)) (i32.const 1))))
            (local.set $stop (i32.add (local.get $cell) (i32.shl (local.get $cols) (i32.const 1))))
            (block $cellsDone
              (loop $cells
                (br_if $cellsDone (i32.ge_u (local.get $cell) (local.get $stop)))
                (local.set $at
                  (i32.add (local.get $hist) (i32.shl (i32.load16_u (local.get $cell)) (i32.const 4))))
                (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $pair)))
                (local.set $cell (i32.add (local.get $cell) (i32.const 2)))
                (br $cells))))
          (else
            ;; The listed features (or u32 slots): each cell found through the list.
            (local.set $j (i32.const 0))
            (block $listDone
              (loop $list
                (br_if $listDone (i32.ge_u (local.get $j) (local.get $count)))
                (local.set $cell
                  (i32.add
                    (i32.mul (local.get $row) (local.get $cols))
                    (i32.load (i32.add (local.get $features) (i32.shl (local.get $j) (i32.const 2))))))
                (local.set $at
                  (i32.add
                    (local.get $hist)
                    (i32.shl
                      (if (result i32) (local.get $wide)
                        (then (i32.load (i32.add (local.get $slots) (i32.shl (local.get $cell) (i32.const 2)))))
                        (else (i32.load16_u (i32.add (local.get $slots) (i32.shl (local.get $cell) (i32.const 1))))))
                      (i32.const 4))))
                (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $pair)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $list)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))

  ;; parent -= child, slot by slot: the parent's histogram becomes its larger child's.
  (func (export "subtract") (param $parent i32) (param $child i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $parent) (global.get $histBytes)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $parent) (local.get $end)))
        (v128.store (local.get $parent) (f64x2.sub (v128.load (local.get $parent)) (v128.load (local.get $child))))
        (local.set $parent (i32.add (local.get $parent) (i32.const 16)))
        (local.set $child (i32.add (local.get $child) (i32.const 16)))
        (br $pairs))))

  ;; Stable partition of rows[start .. end) by a split on `feature`: the rows whose slot is below `boundary`
  ;; (a missing value's slot, the last, goes the way `defaultLeft` says) first, then the others, each part
  ;; in its order. Returns where the right part begins.
  (func (export "partition")
    (param $start i32) (param $end i32) (param $feature i32) (param $boundary i32) (param $defaultLeft i32)
    (result i32)
    (local $rows i32) (local $scratch i32) (local $slots i32) (local $wide i32) (local $cols i32)
    (local $missingSlot i32) (local $k i32) (local $row i32) (local $cell i32) (local $slot i32)
    (local $left i32) (local $right i32)
    (local.set $rows (global.get $rows))
    (local.set $scratch (global.get $scratch))
    (local.set $slots (global.get $slots))
    (local.set $wide (global.get $wide))
    (local.set $cols (global.get $cols))
    (local.set $missingSlot (i32.sub (i32.shr_u (global.get $histBytes) (i32.const 4)) (i32.const 1)))
    (local.set $left (i32.add (local.get $rows) (i32.shl (local.get $start) (i32.const 2))))
    (local.set $right (local.get $scratch))
    (local.set $k (local.get $left))
    (local.set $end (i32.add (local.get $rows) (i32.shl (local.get $end) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $row (i32.load (local.get $k)))
        (local.set $cell (i32.add (i32.mul (local.get $row) (local.get $cols)) (local.get $feature)))
        (local.set $slot
          (if (result i32) (local.get $wide)
            (then (i32.load (i32.add (local.get $slots) (i32.shl (local.get $cell) (i32.const 2)))))
            (else (i32.load16_u (i32.add (local.get $slots) (i32.shl (local.get $cell) (i32.const 1)))))))
        (if
          (if (result i32) (i32.eq (local.get $slot) (local.get $missingSlot))
            (then (local.get $defaultLeft))
            (else (i32.lt_u (local.get $slot) (local.get $boundary))))
          (then
            (i32.store (local.get $left) (local.get $row))
            (local.set $left (i32.add (local.get $left) (i32.const 4))))
          (else
            (i32.store (local.get $right) (local.get $row))
            (local.set $right (i32.add (local.get $right) (i32.const 4)))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $each)))
    (memory.copy (local.get $left) (local.get $scratch) (i32.sub (local.get $right) (local.get $scratch)))
    (i32.shr_u (i32.sub (local.get $left) (local.get $rows)) (i32.const 2)))

  ;; XGBoost's structure score of a node (loss.ts's nodeGain): with L1 the gradient sum is thresholded,
  ;; with a step limit the score follows the clipped weight.
  (func $gain (param $g f64) (param $h f64) (result f64)
    (local $t f64) (local $w f64)
    (if (f64.le (local.get $h) (f64.const 0)) (then (return (f64.const 0))))
    (local.set $t
      (if (result f64) (f64.gt (local.get $g) (global.get $alpha))
        (then (f64.sub (local.get $g) (global.get $alpha)))
        (else
          (if (result f64) (f64.lt (local.get $g) (f64.neg (global.get $alpha)))
            (then (f64.add (local.get $g) (global.get $alpha)))
            (else (f64.const 0))))))
    (if (f64.eq (global.get $maxDelta) (f64.const 0))
      (then
        (return (f64.div (f64.mul (local.get $t) (local.get $t)) (f64.add (local.get $h) (global.get $lambda))))))
    (local.set $w (f64.div (f64.neg (local.get $t)) (f64.add (local.get $h) (global.get $lambda))))
    (if (f64.gt (f64.abs (local.get $w)) (global.get $maxDelta))
      (then (local.set $w (f64.copysign (global.get $maxDelta) (local.get $w)))))
    (f64.neg
      (f64.add
        (f64.mul (f64.mul (f64.const 2) (local.get $g)) (local.get $w))
        (f64.mul (f64.mul (f64.add (local.get $h) (global.get $lambda)) (local.get $w)) (local.get $w)))))

  ;; XGBoost's split enumeration over the histogram at `hist` of a node with sums (nodeG, nodeH), over the
  ;; first `count` of `features` (grower.ts's findBestSplit, which this replaces, says each step): every
  ;; bin boundary, missing values each way. Returns the best split's feature, or -1, and writes the rest
  ;; to `result`.
  (func (export "bestSplit") (param $hist i32) (param $count i32) (param $nodeG f64) (param $nodeH f64) (result i32)
    (local $lambda f64) (local $minChild f64) (local $plain i32) (local $parentGain f64)
    (local $bestGain f64) (local $bestFeature i32) (local $bestBin i32) (local $bestDefaultLeft i32)
    (local $bestGLeft f64) (local $bestHLeft f64)
    (local $j i32) (local $f i32) (local $first i32) (local $end i32) (local $slot i32) (local $missing i32)
    (local $gMissing f64) (local $hMissing f64) (local $gPresent f64) (local $hPresent f64) (local $hasMissing i32)
    (local $gain f64) (local $gL f64) (local $hL f64) (local $hR f64)
    (local $node v128) (local $left v128) (local $right v128) (local $hessians v128) (local $gradients v128)
    (local $pair v128) (local $lambdaPair v128) (local $minChildPair v128) (local $listed i32) (local $next i32)
    (local.set $lambda (global.get $lambda))
    (local.set $minChild (global.get $minChild))
    (local.set $node (f64x2.replace_lane 1 (f64x2.splat (local.get $nodeG)) (local.get $nodeH)))
    (local.set $lambdaPair (f64x2.splat (local.get $lambda)))
    (local.set $minChildPair (f64x2.splat (local.get $minChild)))
    ;; Without L1 or a step limit, a node's gain is G^2 / (H + lambda): computed inline in the hot loop.
    (local.set $plain
      (i32.and (f64.eq (global.get $alpha) (f64.const 0)) (f64.eq (global.get $maxDelta) (f64.const 0))))
    (local.set $parentGain
      (if (result f64) (local.get $plain)
        (then (f64.div (f64.mul (local.get $nodeG) (local.get $nodeG)) (f64.add (local.get $nodeH) (local.get $lambda))))
        (else (call $gain (local.get $nodeG) (local.get $nodeH)))))
    (local.set $bestGain (f64.const -inf))
    (local.set $bestFeature (i32.const -1))
    (local.set $j (i32.const 0))
    (block $featuresDone
      (loop $features
        (br_if $featuresDone (i32.ge_u (local.get $j) (local.get $count)))
        (local.set $f (i32.load (i32.add (global.get $features) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (local.set $first
          (i32.add (local.get $hist)
            (i32.shl (i32.load (i32.add (global.get $binStart) (i32.shl (local.get $f) (i32.const 2)))) (i32.const 4))))
        (local.set $end
          (i32.add (local.get $hist)
            (i32.shl
              (i32.load (i32.add (global.get $binStart) (i32.shl (i32.add (local.get $f) (i32.const 1)) (i32.const 2))))
              (i32.const 4))))
        (local.set $missing (i32.load8_u (i32.add (global.get $hasMissing) (local.get $f))))
        ;; One bin and no missing value: nothing to split.
        (br_if $features
          (i32.and (i32.lt_s (i32.sub (local.get $end) (local.get $first)) (i32.const 32)) (i32.eqz (local.get $missing))))
        (local.set $gMissing (f64.const 0))
        (local.set $hMissing (f64.const 0))
        (if (local.get $missing)
          (then
            (local.set $gPresent (f64.const 0))
            (local.set $hPresent (f64.const 0))
            (local.set $slot (local.get $first))
            (block $sumDone
              (loop $sum
                (br_if $sumDone (i32.ge_u (local.get $slot) (local.get $end)))
                (local.set $gPresent (f64.add (local.get $gPresent) (f64.load (local.get $slot))))
                (local.set $hPresent (f64.add (local.get $hPresent) (f64.load offset=8 (local.get $slot))))
                (local.set $slot (i32.add (local.get $slot) (i32.const 16)))
                (br $sum)))
            (local.set $gMissing (f64.sub (local.get $nodeG) (local.get $gPresent)))
            (local.set $hMissing (f64.sub (local.get $nodeH) (local.get $hPresent)))))
        (local.set $hasMissing (f64.gt (local.get $hMissing) (f64.const 1e-12)))
        (if (local.get $hasMissing)
          (then
            ;; XGBoost's two extra candidates: every present value on one side, the missing ones on the
            ;; other (present left, the bin past the last; the other way has the same gain and loses the tie).
            (local.set $hPresent (f64.sub (local.get $nodeH) (local.get $hMissing)))
            (if (i32.and (f64.ge (local.get $hPresent) (local.get $minChild)) (f64.ge (local.get $hMissing) (local.get $minChild)))
              (then
                (local.set $gPresent (f64.sub (local.get $nodeG) (local.get $gMissing)))
                (local.set $gain
                  (f64.sub
                    (f64.add (call $gain (local.get $gPresent) (local.get $hPresent)) (call $gain (local.get $gMissing) (local.get $hMissing)))
                    (local.get $parentGain)))
                (if (f64.gt (local.get $gain) (local.get $bestGain))
                  (then
                    (local.set $bestGain (local.get $gain))
                    (local.set $bestFeature (local.get $f))
                    (local.set $bestBin (i32.shr_u (i32.sub (local.get $end) (local.get $first)) (i32.const 4)))
                    (local.set $bestDefaultLeft (i32.const 0))
                    (local.set $bestGLeft (local.get $gPresent))
                    (local.set $bestHLeft (local.get $hPresent))))))))
        ;; The bins that hold rows, listed first: an empty bin (both sums +0, every bit 0) leaves both sides
        ;; as the boundary before it did, so its candidates have the same gains, which cannot win (a
        ;; candidate must beat the best strictly); adding its +0 changes no sum. A deep node's few rows
        ;; leave most bins empty. Listed without a branch: each bin's place is written, and the list
        ;; grows by one when the bin holds rows.
        (local.set $listed (global.get $binList))
        (local.set $slot (local.get $first))
        (block $listDone
          (loop $list
            (br_if $listDone (i32.ge_u (local.get $slot) (i32.sub (local.get $end) (i32.const 16))))
            (i32.store (local.get $listed) (local.get $slot))
            (local.set $listed
              (i32.add (local.get $listed) (i32.shl (v128.any_true (v128.load (local.get $slot))) (i32.const 2))))
            (local.set $slot (i32.add (local.get $slot) (i32.const 16)))
            (br $list)))
        ;; The left side's sums as one pair (gradient, hessian), the right side's the node's minus them.
        (local.set $left (v128.const i64x2 0 0))
        ;; Boundary before bin b: rows in bins < b go left.
        (local.set $next (global.get $binList))
        (block $binsDone
          (loop $bins
            (br_if $binsDone (i32.ge_u (local.get $next) (local.get $listed)))
            (local.set $slot (i32.load (local.get $next)))
            (local.set $next (i32.add (local.get $next) (i32.const 4)))
            (local.set $left (f64x2.add (local.get $left) (v128.load (local.get $slot))))
            (local.set $right (f64x2.sub (local.get $node) (local.get $left)))
            ;; Missing values go right (the default when training saw none, as XGBoost).
            ;; The hessians of both sides, (hLeft, hRight), against min_child_weight at once.
            (local.set $hessians
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $left) (local.get $right)))
            (if (i64x2.all_true (f64x2.ge (local.get $hessians) (local.get $minChildPair)))
              (then
                ;; (gLeft, gRight)
                (local.set $gradients
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $left) (local.get $right)))
                (local.set $gain
                  (if (result f64) (local.get $plain)
                    (then
                      ;; Both sides' G^2 / (H + lambda) in one f64x2 division (each lane as a float64 one).
                      (local.set $pair
                        (f64x2.div
                          (f64x2.mul (local.get $gradients) (local.get $gradients))
                          (f64x2.add (local.get $hessians) (local.get $lambdaPair))))
                      (f64.sub
                        (f64.add (f64x2.extract_lane 0 (local.get $pair)) (f64x2.extract_lane 1 (local.get $pair)))
                        (local.get $parentGain)))
                    (else
                      (f64.sub
                        (f64.add
                          (call $gain (f64x2.extract_lane 0 (local.get $gradients)) (f64x2.extract_lane 0 (local.get $hessians)))
                          (call $gain (f64x2.extract_lane 1 (local.get $gradients)) (f64x2.extract_lane 1 (local.get $hessians))))
                        (local.get $parentGain)))))
                (if (f64.gt (local.get $gain) (local.get $bestGain))
                  (then
                    (local.set $bestGain (local.get $gain))
                    (local.set $bestFeature (local.get $f))
                    (local.set $bestBin
                      (i32.add (i32.shr_u (i32.sub (local.get $slot) (local.get $first)) (i32.const 4)) (i32.const 1)))
                    (local.set $bestDefaultLeft (i32.const 0))
                    (local.set $bestGLeft (f64x2.extract_lane 0 (local.get $left)))
                    (local.set $bestHLeft (f64x2.extract_lane 1 (local.get $left)))))))
            (if (local.get $hasMissing)
              (then
                (local.set $gL (f64.add (f64x2.extract_lane 0 (local.get $left)) (local.get $gMissing)))
                (local.set $hL (f64.add (f64x2.extract_lane 1 (local.get $left)) (local.get $hMissing)))
                (local.set $hR (f64.sub (local.get $nodeH) (local.get $hL)))
                (if (i32.and (f64.ge (local.get $hL) (local.get $minChild)) (f64.ge (local.get $hR) (local.get $minChild)))
                  (then
                    (local.set $gain
                      (f64.sub
                        (f64.add
                          (call $gain (local.get $gL) (local.get $hL))
                          (call $gain (f64.sub (local.get $nodeG) (local.get $gL)) (local.get $hR)))
                        (local.get $parentGain)))
                    (if (f64.gt (local.get $gain) (local.get $bestGain))
                      (then
                        (local.set $bestGain (local.get $gain))
                        (local.set $bestFeature (local.get $f))
                        (local.set $bestBin
                          (i32.add (i32.shr_u (i32.sub (local.get $slot) (local.get $first)) (i32.const 4)) (i32.const 1)))
                        (local.set $bestDefaultLeft (i32.const 1))
                        (local.set $bestGLeft (local.get $gL))
                        (local.set $bestHLeft (local.get $hL))))))))
            (br $bins)))
        (br $features)))
    (f64.store (global.get $result) (local.get $bestGain))
    (f64.store offset=8 (global.get $result) (local.get $bestGLeft))
    (f64.store offset=16 (global.get $result) (local.get $bestHLeft))
    (f64.store offset=24 (global.get $result) (f64.convert_i32_s (local.get $bestBin)))
    (f64.store offset=32 (global.get $result) (f64.convert_i32_s (local.get $bestDefaultLeft)))
    (local.get $bestFeature)))
