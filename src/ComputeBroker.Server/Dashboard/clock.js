// The broker's clock as the browser estimates it between polls. A demo runs the broker's clock faster
// than real time (--speed), so deadlines are counted down in broker time: at 3600x a 5-day response
// window passes in 2 real minutes, and each countdown drops an hour every second.
let sync = { broker: Date.now(), perf: performance.now(), speed: 1 };

export function syncClock(nowIso, speed) {
  sync = { broker: Date.parse(nowIso), perf: performance.now(), speed: speed || 1 };
}

export const brokerNow = () => sync.broker + (performance.now() - sync.perf) * sync.speed;
export const clockSpeed = () => sync.speed;

/** "4d 03h 12m 05s", "12m 05s", "5s". */
export function formatSpan(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${pad(h)}h ${pad(m)}m ${pad(s)}s`;
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

/** Updates every countdown under root: elements with data-deadline (an ISO instant). */
export function tickCountdowns(root = document) {
  const now = brokerNow();
  for (const el of root.querySelectorAll('[data-deadline]')) {
    const left = Date.parse(el.dataset.deadline) - now;
    const text = left > 0 ? `${formatSpan(left)} left` : 'deadline passed';
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle('soon', left > 0 && left < 12 * 3600 * 1000);
    el.classList.toggle('passed', left <= 0);
  }
}
