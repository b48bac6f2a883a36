import { Cron } from 'croner';
import { invalidParameter } from '../errors.js';
import { type PipelineDefinition, resolveParams } from './pipeline.js';
import type { PipelineService } from './pipeline-service.js';
import type { PipelineSchedule, PipelineStore } from './pipeline-store.js';

/**
 * The next firing strictly after `after` (ms) of a cron expression: 5 fields (minute hour day month
 * weekday) or 6 with seconds first, in an IANA time zone. Throws a clear error for an invalid expression.
 */
export function nextFiring(cron: string, timezone: string, after: number): number {
  let next: Date | null;
  try {
    next = new Cron(cron, { paused: true, timezone }).nextRun(new Date(after));
  } catch (error) {
    throw invalidParameter(
      `Invalid schedule "${cron}" (time zone ${timezone}): ${(error as Error).message}. Write 5 fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *" for 03:00 every day`,
    );
  }
  if (next === null)
    throw invalidParameter(`The schedule "${cron}" never fires after ${new Date(after).toISOString()}`);
  return next.getTime();
}

/**
 * Stores a schedule for `pipeline` after checking its cron expression, time zone and parameters (so a
 * mistake shows now, not at the first firing). Parameters are kept as given and resolved at each firing.
 */
export async function addSchedule(
  store: PipelineStore,
  pipeline: PipelineDefinition,
  input: { cron: string; timezone: string; params: Readonly<Record<string, unknown>> },
): Promise<PipelineSchedule> {
  const params = resolveParams(pipeline, input.params);
  const given = Object.fromEntries(Object.keys(input.params).map((name) => [name, params[name]!]));
  return store.createSchedule({
    pipeline: pipeline.name,
    cron: input.cron,
    timezone: input.timezone,
    params: given,
    nextRunTime: nextFiring(input.cron, input.timezone, Date.now()),
  });
}

export interface SchedulerOptions {
  /** How often due schedules are looked for (ms, default 15 s). */
  readonly tickMs?: number;
  readonly now?: () => number;
  /** Told about firings and failures to start (the server logs them). */
  readonly onFire?: (event: { scheduleId: string; pipeline: string; runId?: string; error?: string }) => void;
}

/**
 * Fires the stored schedules inside `onset up`: each tick, every enabled schedule whose next firing is
 * due is claimed in the store (so several servers over one database start it once) and its pipeline is
 * started with the schedule's parameters. Firings missed while no server ran are caught up once.
 */
export class PipelineScheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: PipelineStore,
    private readonly service: PipelineService,
    private readonly options: SchedulerOptions = {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick());
    }, this.options.tickMs ?? 15_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One pass over the schedules (exposed for tests and for a first pass at start-up). */
  async tick(): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    let schedules: Awaited<ReturnType<PipelineStore['listSchedules']>>;
    try {
      schedules = await this.store.listSchedules();
    } catch {
      return; // the database is away: try again next tick
    }
    for (const schedule of schedules) {
      if (!schedule.enabled || schedule.nextRunTime > now) continue;
      const report = this.options.onFire ?? (() => undefined);
      try {
        const next = nextFiring(schedule.cron, schedule.timezone, now);
        if (!(await this.store.claimScheduleFiring(schedule.scheduleId, schedule.nextRunTime, next)))
          continue;
        const handle = await this.service.start(
          schedule.pipeline,
          schedule.params,
          `schedule:${schedule.scheduleId}`,
        );
        await this.store.recordScheduleRun(schedule.scheduleId, handle.runId);
        report({ scheduleId: schedule.scheduleId, pipeline: schedule.pipeline, runId: handle.runId });
      } catch (error) {
        report({
          scheduleId: schedule.scheduleId,
          pipeline: schedule.pipeline,
          error: (error as Error).message,
        });
      }
    }
  }
}
