import { useState } from 'preact/hooks';

/** The admin API's limit on `reason` (src/flags/runtime-change.ts). */
const MAX_REASON = 1000;

export interface AskOptions {
  title: string;
  message?: string;
  /** A red warning: for the kill switch and abort. */
  danger?: boolean;
  confirmLabel?: string;
}

export type Ask = (options: AskOptions) => Promise<string | null>;

/** The confirmation every change goes through: it asks for a reason (kept in the audit log; the API refuses a change without one). */
export function ReasonDialog(props: { options: AskOptions; onDone: (reason: string | null) => void }) {
  const [reason, setReason] = useState('');
  const { options } = props;
  return (
    <div class="backdrop">
      <div class={`dialog${options.danger ? ' danger' : ''}`} role="dialog" aria-modal="true" aria-label={options.title}>
        <h3>{options.title}</h3>
        {options.message ? <p>{options.message}</p> : null}
        <label>
          Reason (kept in the audit log)
          <input name="reason" value={reason} maxLength={MAX_REASON} onInput={(e) => setReason((e.target as HTMLInputElement).value)} autoFocus />
        </label>
        <div class="buttons">
          <button type="button" onClick={() => props.onDone(null)}>Cancel</button>
          <button type="button" class={options.danger ? 'danger' : 'primary'} name="confirm" disabled={reason.trim() === ''} onClick={() => props.onDone(reason.trim())}>
            {options.confirmLabel ?? 'Confirm'}
          </button>
        </div>
      </div>
    </div>
  );
}
