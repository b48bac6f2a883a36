/**
 * Two distributions over the same bins drawn side by side as horizontal bars (reference and current), in
 * a table a screen reader reads as numbers: what a drift check compared, feature by feature.
 */
export interface ShareBin {
  readonly label: string;
  readonly reference_share: number;
  readonly current_share: number;
  readonly reference_count: number;
  readonly current_count: number;
}

export function ShareBars({ caption, bins }: { caption: string; bins: readonly ShareBin[] }) {
  const largest = Math.max(1e-9, ...bins.flatMap((bin) => [bin.reference_share, bin.current_share]));
  const width = (share: number) => `${((share / largest) * 100).toFixed(1)}%`;
  return (
    <table class="share-bars">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">bin</th>
          <th scope="col">
            <span class="swatch reference" aria-hidden="true" /> reference
          </th>
          <th scope="col">
            <span class="swatch current" aria-hidden="true" /> current
          </th>
        </tr>
      </thead>
      <tbody>
        {bins.map((bin) => (
          <tr key={bin.label}>
            <th scope="row">{bin.label}</th>
            {(['reference', 'current'] as const).map((side) => {
              const share = side === 'reference' ? bin.reference_share : bin.current_share;
              const count = side === 'reference' ? bin.reference_count : bin.current_count;
              return (
                <td key={side} title={`${count} rows`}>
                  <div class="bar-track">
                    <div class={`bar ${side}`} style={{ width: width(share) }} />
                    <span class="bar-value">{(share * 100).toFixed(1)}%</span>
                  </div>
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
