export function ComparePage() {
  return <h1>Compare runs</h1>;
}
