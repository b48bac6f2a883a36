/**
 * A fitted tree in XGBoost's array layout: nodes in breadth-first order, the right child stored right after
 * the left one, leaves marked by `left = -1` and holding their (already shrunk) value in `condition`.
 * This is what is saved, exported to XGBoost JSON and packed for prediction.
 */
export interface FlatTree {
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly parent: Int32Array;
  /** Split feature; 0 for leaves (as XGBoost writes them). */
  readonly feature: Int32Array;
  /** Split threshold (a float32 value: rows with `x < condition` go left), or the leaf value. */
  readonly condition: Float32Array;
  readonly defaultLeft: Uint8Array;
  /** Loss reduction of the split (0 for leaves). */
  readonly lossChange: Float32Array;
  /** Sum of hessians of the training rows in the node (XGBoost's "cover"). */
  readonly sumHessian: Float32Array;
  /** The node's weight: unshrunk for internal nodes, the leaf value for leaves (as XGBoost). */
  readonly baseWeight: Float32Array;
}

export const NO_PARENT = 2147483647;

export function nodeCount(tree: FlatTree): number {
  return tree.left.length;
}

export function isLeaf(tree: FlatTree, node: number): boolean {
  return tree.left[node] === -1;
}

/** Depth of the deepest leaf (a lone leaf has depth 0). */
export function treeDepth(tree: FlatTree): number {
  const depth = new Int32Array(nodeCount(tree));
  let deepest = 0;
  for (let node = 1; node < depth.length; node++) {
    depth[node] = depth[tree.parent[node]!]! + 1;
    deepest = Math.max(deepest, depth[node]!);
  }
  return deepest;
}

/** Checks the structural invariants every reader relies on; returns a description of the first breach. */
export function checkTreeStructure(tree: FlatTree, featureCount: number): string | undefined {
  const n = nodeCount(tree);
  const lengths = [
    tree.right,
    tree.parent,
    tree.feature,
    tree.condition,
    tree.defaultLeft,
    tree.lossChange,
    tree.sumHessian,
    tree.baseWeight,
  ].map((a) => a.length);
  if (n === 0) return 'has no nodes';
  if (lengths.some((length) => length !== n)) return 'has node arrays of different lengths';
  if (tree.parent[0] !== NO_PARENT) return 'root has a parent';
  for (let node = 0; node < n; node++) {
    const left = tree.left[node]!;
    const right = tree.right[node]!;
    if (left === -1) {
      if (right !== -1) return `node ${node} has a right child but no left child`;
      if (!Number.isFinite(tree.condition[node]!)) return `leaf ${node} has a non-finite value`;
      continue;
    }
    if (left <= node || left >= n || right !== left + 1 || right >= n) {
      return `node ${node} has children ${left} and ${right}; expected a later left child with the right child after it`;
    }
    if (tree.parent[left] !== node || tree.parent[right] !== node)
      return `children of node ${node} do not name it as parent`;
    const feature = tree.feature[node]!;
    if (feature < 0 || feature >= featureCount)
      return `node ${node} splits on feature ${feature}; the model has ${featureCount}`;
    if (!Number.isFinite(tree.condition[node]!)) return `node ${node} has a non-finite split condition`;
  }
  return undefined;
}
