type Params = { params: Readonly<Record<string, string>> };
export function PipelinesPage() {
  return <h1>Pipelines</h1>;
}
export function PipelinePage({ params }: Params) {
  return <h1>{params.name}</h1>;
}
export function PipelineRunPage({ params }: Params) {
  return <h1>{params.id}</h1>;
}
