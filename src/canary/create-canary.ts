import type { FlagsConfig } from '../config/types.js';
import type { FlagEngine } from '../flags/flag-engine.js';
import type { Logger } from '../logging/logger.js';
import type { OutcomeRecorder } from '../outcomes/outcome-recorder.js';
import type { ShadowResultStore } from '../shadow/shadow-store.js';
import { observeCanaryPercentages } from '../telemetry/canary-telemetry.js';
import { CanaryController } from './canary-controller.js';
import { MemoryCanaryStore, type CanaryRunStore } from './canary-store.js';
import { WebhookNotifier, type CanaryNotifier } from './canary-webhook.js';
import { MemoryLease, type LeaderLease } from './leader-lease.js';
import { RedisCanaryStore, RedisLease } from './redis-canary-store.js';
import type { RedisTarget } from '../redis/redis-url.js';

/** `createSwitchyard({ canary })`: every part injectable for tests; by default Redis with REDIS_URL, else this process. */
export interface CanaryOptions {
  readonly store?: CanaryRunStore;
  readonly lease?: LeaderLease;
  readonly notifier?: CanaryNotifier | null;
  readonly now?: () => number;
  readonly randomId?: () => string;
  /** This instance's id (the `leader` in the API); default host-pid-random. */
  readonly instance?: string;
  /** Overrides settings.canary.tickMs. */
  readonly tickMs?: number;
}

export interface CanaryParts {
  readonly config: () => FlagsConfig;
  readonly flags: FlagEngine;
  readonly outcomes: OutcomeRecorder;
  readonly shadow: ShadowResultStore;
  readonly logger: Logger;
  /** Where runs and the leader lease are shared: with the runtime flags the autopilot writes (null: this process). */
  readonly redis: RedisTarget | null;
  readonly instance: string;
  readonly randomId: () => string;
}

/** Builds the controller (not started: `start()` once the flags are loaded) and its telemetry gauge. */
export function createCanary(options: CanaryOptions, parts: CanaryParts): { controller: CanaryController; start: () => void; close: () => Promise<void> } {
  const settings = parts.config().settings;
  const redis = parts.redis === null ? null : { url: parts.redis, namespace: settings.shadow.namespace, commandTimeoutMs: 1000 };
  const instance = options.instance ?? parts.instance;
  const webhook = settings.canary.webhook;
  const controller = new CanaryController({
    config: parts.config,
    flags: parts.flags,
    outcomes: parts.outcomes,
    shadow: parts.shadow,
    store: options.store ?? (redis === null ? new MemoryCanaryStore() : new RedisCanaryStore(redis)),
    lease: options.lease ?? (redis === null ? new MemoryLease(instance) : new RedisLease(redis, instance, settings.canary.leaseMs)),
    notifier: options.notifier !== undefined ? options.notifier : webhook === null ? null : new WebhookNotifier({ ...webhook, logger: parts.logger }),
    now: options.now ?? Date.now,
    randomId: options.randomId ?? parts.randomId,
    logger: parts.logger,
  });
  let percentages: { route: string; status: string; percentage: number }[] = [];
  const stopGauge = observeCanaryPercentages(() => percentages);
  let refresh: NodeJS.Timeout | undefined;
  return {
    controller,
    start: () => {
      const tickMs = options.tickMs ?? settings.canary.tickMs;
      controller.start(tickMs);
      void controller.tick();
      // The gauge reads a copy refreshed in the background: an OTel callback cannot wait for Redis.
      refresh = setInterval(() => {
        controller
          .list()
          .then((l) => (percentages = l.runs.map((r) => ({ route: r.route, status: r.status, percentage: r.setPercentage }))))
          .catch(() => {});
      }, Math.max(tickMs, 5000));
      refresh.unref();
    },
    close: async () => {
      if (refresh !== undefined) clearInterval(refresh);
      stopGauge();
      await controller.close();
    },
  };
}
