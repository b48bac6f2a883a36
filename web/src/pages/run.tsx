export function RunPage({ params }: { params: Readonly<Record<string, string>> }) {
  return <h1>Run {params.id}</h1>;
}
