type Params = { params: Readonly<Record<string, string>> };
export function ModelsPage() {
  return <h1>Models</h1>;
}
export function ModelPage({ params }: Params) {
  return <h1>{params.name}</h1>;
}
export function VersionPage({ params }: Params) {
  return (
    <h1>
      {params.name} {params.version}
    </h1>
  );
}
