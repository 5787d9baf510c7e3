import { AuditList, Incident, type Note } from '@downstream/shared';
import { useEffect, useRef, useState } from 'react';
import { time } from '../../format.js';
import { apiPost } from '../../live/api.js';
import { useApi } from '../../live/use-api.js';
import { auditLabel, auditNewestFirst } from './incident-ops-model.js';

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

const Audit = AuditList;

export interface AuditTrailProps {
  incidentId: string;
  /** Notes carried by the incident: shown if the audit endpoint cannot be read. */
  notes: readonly Note[];
  /** Changes whenever something auditable happened (status, notes, mitigation): refetch. */
  version: string;
}

/**
 * The full audit trail, newest first: status changes (with or without a note), notes,
 * mitigation announce/withdraw, from `GET /api/incidents/:id/audit`.
 */
export function AuditTrail({ incidentId, notes, version }: AuditTrailProps) {
  const { data, error, reload } = useApi(`/api/incidents/${encodeURIComponent(incidentId)}/audit`, Audit);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    reload();
  }, [version, reload]);

  if (!data) {
    if (!error) return <p className="empty">Loading the audit trail…</p>;
    return (
      <>
        <p className="banner banner-warn" role="alert">
          Cannot read the full audit trail ({error}); notes only:
        </p>
        <NoteList notes={notes} />
      </>
    );
  }
  if (data.entries.length === 0) return <p className="empty">No operator action yet.</p>;
  return (
    <ol className="audit" data-testid="audit-trail" data-entries={data.entries.length}>
      {auditNewestFirst(data.entries).map((e, k) => (
        <li key={`${e.at}-${k}`} data-action={e.action}>
          <span className="sub">{time(e.at)}</span> <strong>{e.by}</strong> {auditLabel(e.action)}
          {e.detail ? <>: {e.detail}</> : null}
        </li>
      ))}
    </ol>
  );
}

/** Notes, newest first: who did what, when. */
function NoteList({ notes }: { notes: readonly Note[] }) {
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
