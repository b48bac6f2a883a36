import { Link } from '../router.js';

/**
 * Monitoring waits for issue 16 (the prediction log, drift and performance): this page is where request
 * rate, latency and the prediction distribution over time, drift per feature, performance and the alert
 * history will be shown, from the monitoring API.
 */
export function MonitoringPage() {
  return (
    <>
      <div class="page-head">
        <h1>Monitoring</h1>
      </div>
      <div class="placeholder card" role="note">
        <h2>Coming with the monitoring capability</h2>
        <p>
          This page will show request rate, latency and the prediction distribution over time; drift per
          feature with reference and current histograms and the verdict; performance from feedback and the
          label-free estimate; and the alert history with what each alert triggered. Those come from the
          monitoring API, which is being built. Live traffic from <code>/metrics</code> is on the{' '}
          <Link href="/">overview</Link> already.
        </p>
      </div>
    </>
  );
}
