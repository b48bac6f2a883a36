export function ExperimentsPage() {
  return <h1>Experiments</h1>;
}
export function ExperimentPage({ params }: { params: Readonly<Record<string, string>> }) {
  return <h1>Experiment {params.id}</h1>;
}
