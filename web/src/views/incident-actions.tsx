import { Incident, type Note } from '@downstream/shared';
import { useState } from 'react';
import { time } from '../format.js';
import { apiPost } from '../live/api.js';

export interface IncidentActionsProps {
  incident: Incident;
  /** Called with the server's updated incident after a successful action. */
  onChanged: (incident: Incident) => void;
}

/** Acknowledge / resolve / note, for operators; the server enforces the role. */
export function IncidentActions({ incident, onChanged }: IncidentActionsProps) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const act = async (action: 'ack' | 'resolve' | 'notes') => {
    setBusy(true);
    setError(undefined);
    try {
      const text = note.trim();
      const body = action === 'notes' ? { text } : text ? { note: text } : {};
      const updated = await apiPost(`/api/incidents/${encodeURIComponent(incident.id)}/${action}`, body, Incident);
      setNote('');
      onChanged(updated);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const resolved = incident.status === 'resolved';
  return (
    <div className="actions" data-testid="incident-actions">
      <textarea
        value={note}
        onChange={(e) => setNote(e.target.value)}
        placeholder="Note for the audit trail (who you called, what you did)…"
        rows={2}
        aria-label="Note"
        data-testid="note-input"
      />
      <div className="action-buttons">
        <button
          type="button"
          disabled={busy || incident.status !== 'open'}
          onClick={() => act('ack')}
          data-testid="action-ack"
        >
          Acknowledge
        </button>
        <button type="button" disabled={busy || resolved} onClick={() => act('resolve')} data-testid="action-resolve">
          Resolve
        </button>
        <button type="button" disabled={busy || !note.trim()} onClick={() => act('notes')} data-testid="action-note">
          Add note
        </button>
      </div>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="action-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** Notes, newest first: who did what, when. */
export function AuditTrail({ notes }: { notes: readonly Note[] }) {
  if (notes.length === 0) return <p className="empty">No operator action yet.</p>;
  return (
    <ol className="audit" data-testid="audit-trail">
      {[...notes].reverse().map((n, k) => (
        <li key={`${n.at}-${k}`}>
          <span className="sub">{time(n.at)}</span> <strong>{n.by}</strong>: {n.text}
        </li>
      ))}
    </ol>
  );
}
