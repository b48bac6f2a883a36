export function ScorePage() {
  return <h1>Predict</h1>;
}
