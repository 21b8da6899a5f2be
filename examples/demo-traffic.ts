// The demo's traffic generator: a few requests a second from a small crowd of users, so the
// counters, the rollout split, the shadow diffs and the cache have something to show.

/** One kind of request the generator sends, picked by weight. */
interface Shape {
  readonly weight: number;
  readonly path: (user: number) => string;
}

const SHAPES: readonly Shape[] = [
  { weight: 3, path: (user) => `/flask/users/${user}` }, // the sticky rollout
  { weight: 2, path: () => '/flask/hello' }, // migrated
  { weight: 2, path: () => '/flask/catalog' }, // shadowed
  { weight: 3, path: (user) => `/flask/slow?ms=${(user % 4) * 5}` }, // the autopilot's route
  { weight: 1, path: (user) => `/flask/report?region=${['eu', 'us', 'apac'][user % 3]}` }, // cached (the bare /flask/report is left for you)
  { weight: 1, path: () => '/flask/whoami' },
  { weight: 1, path: () => '/django/whoami/' },
];
const TOTAL_WEIGHT = SHAPES.reduce((sum, s) => sum + s.weight, 0);
export const DEMO_USERS = 40;

export interface TrafficGenerator {
  readonly sent: number;
  readonly failed: number;
  stop(): void;
}

/** Sends about `perSecond` requests a second to `base` until stopped; never throws. */
export function startTraffic(base: string, perSecond = 5): TrafficGenerator {
  let sent = 0;
  let failed = 0;
  const timer = setInterval(() => {
    const user = 1 + Math.floor(Math.random() * DEMO_USERS);
    sent++;
    fetch(`${base}${pick().path(user)}`, { headers: { 'x-user-id': `user-${user}` }, signal: AbortSignal.timeout(10_000) })
      .then((res) => res.arrayBuffer())
      .catch(() => void failed++);
  }, 1000 / perSecond);
  timer.unref();
  return {
    get sent() {
      return sent;
    },
    get failed() {
      return failed;
    },
    stop: () => clearInterval(timer),
  };
}

function pick(): Shape {
  let r = Math.random() * TOTAL_WEIGHT;
  for (const shape of SHAPES) {
    r -= shape.weight;
    if (r < 0) return shape;
  }
  return SHAPES[0]!;
}
