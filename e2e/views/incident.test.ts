import { readFile } from 'node:fs/promises';
import type { IncidentDetail } from '@downstream/shared';
import { describe, expect, it } from 'vitest';
import { screenshot, useDemoAndBrowser } from '../harness/index.js';
import { canvasInk, openPage, type LabelBoxes } from './helpers.js';

/** The incident drill-down (web/src/views/incident/): graph, timeline, tables, operator actions. */
describe('incident page', () => {
  const suite = useDemoAndBrowser();

  async function fanIn(): Promise<IncidentDetail> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const list = (await (await fetch(`${suite.demo.url}/api/incidents?kind=ddos-fan-in`)).json()) as {
        incidents: { id: string }[];
      };
      if (list.incidents[0])
        return (await (
          await fetch(`${suite.demo.url}/api/incidents/${list.incidents[0].id}`)
        ).json()) as IncidentDetail;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error('no fan-in incident within 60 s');
  }

  it('draws the fan-in graph clustered by ASN, with tooltip, cluster filter, timeline and tables', async () => {
    const incident = await fanIn();
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/incidents/${incident.id}`);
    const detail = page.getByTestId('incident-detail');
    await detail.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('incident-kind').textContent()).toMatch(/fan-in/i);
    expect(await page.getByTestId('incident-target').textContent()).toContain(incident.target!.ip);
    // Why it fired, in words an operator can check: the evidence and the thresholds (the detector's reason text, server/src/detect/).
    expect(await page.getByTestId('incident-reason').textContent()).toMatch(/Why:.*sources.*thresholds: ≥ 500 sources/);

    const graph = page.getByTestId('fan-in-graph');
    await graph.waitFor({ timeout: 30_000 });
    expect(Number(await graph.getAttribute('data-sources'))).toBeGreaterThan(100);
    expect(Number(await graph.getAttribute('data-clusters'))).toBeGreaterThan(3);
    await expect
      .poll(async () => (await canvasInk(page, '[data-testid="fan-in-graph"]')).reddish, { timeout: 20_000 })
      .toBeGreaterThan(300);

    // Hover over the discs (where the renderer says they are) until the tooltip names a
    // source (IP, ASN) or a cluster.
    const box = (await graph.boundingBox())!;
    const { discs } = JSON.parse((await graph.getAttribute('data-label-boxes'))!) as LabelBoxes;
    let tip = '';
    let at = { x: 0, y: 0 };
    for (let k = 0; k < 3 * discs.length && !tip; k++) {
      const d = discs[k % discs.length]!;
      const off = [0, 0.4, -0.4][Math.floor(k / discs.length)]! * d.r;
      at = { x: box.x + d.cx + off, y: box.y + d.cy };
      await page.mouse.move(at.x, at.y);
      await page.waitForTimeout(80);
      if ((await page.getByTestId('graph-tooltip').count()) > 0)
        tip = (await page.getByTestId('graph-tooltip').textContent()) ?? '';
    }
    expect(tip).toMatch(/AS\d+/);
    await screenshot(page, 'incident-graph-hover');

    // Clicking there filters to that network: the URL carries it, the source table follows.
    await page.mouse.click(at.x, at.y);
    await expect.poll(() => new URL(page.url()).searchParams.get('asn'), { timeout: 5000 }).toMatch(/^-?\d+$/);
    await page.getByTestId('asn-filter').waitFor();
    expect(await page.getByTestId('incident-timeline').count()).toBe(1);
    expect(await page.locator('[data-testid="top-sources"] tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="top-asns"] tbody tr').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters by a source network from the ASN table, and back', async () => {
    const incident = await fanIn();
    const { page } = await openPage(suite.browser, `${suite.demo.url}/incidents/${incident.id}`);
    await page.getByTestId('fan-in-graph').waitFor({ timeout: 30_000 });
    const asn = incident.sources.asns[0]!.asn;
    await page
      .locator('[data-testid="top-asns"] button', { hasText: `AS${asn}` })
      .first()
      .click();
    await expect.poll(() => new URL(page.url()).searchParams.get('asn')).toBe(String(asn));
    await page.getByTestId('asn-filter').waitFor();
    const asnCells = await page.locator('[data-testid="top-sources"] tbody tr td:nth-child(2) a').allTextContents();
    for (const t of asnCells) expect(t).toBe(`AS${asn}`);
    await screenshot(page, 'incident-asn-filter');
    await page.getByTestId('asn-filter').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('asn')).toBeNull();
    await page.close();
  });

  it('downloads X-ARF and ARF reports and says plainly when mitigation is not configured', async () => {
    const incident = await fanIn();
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/incidents/${incident.id}`);
    await page.getByTestId('incident-detail').waitFor({ timeout: 15_000 });
    const rows = page.locator('[data-testid="report-recipients"] tbody tr');
    await rows.first().waitFor({ timeout: 15_000 });
    const recipient = await rows.first().getAttribute('data-recipient');
    expect(recipient).toMatch(/^(asn|upstream|target-asn):/);

    const [xarf] = await Promise.all([page.waitForEvent('download'), rows.first().getByTestId('report-xarf').click()]);
    expect(xarf.suggestedFilename()).toMatch(/\.json$/);
    const report = JSON.parse(await readFile((await xarf.path())!, 'utf8')) as {
      Version: string;
      Report: { ReportClass: string; DestinationIp?: string };
    };
    expect(report.Report.ReportClass).toBe('Activity');
    expect(report.Report.DestinationIp).toBe(incident.target!.ip);
    const [arf] = await Promise.all([page.waitForEvent('download'), rows.first().getByTestId('report-arf').click()]);
    const eml = await readFile((await arf.path())!, 'utf8');
    expect(eml).toMatch(/Content-Type: multipart\/report; report-type=feedback-report/i);

    // The demo configures no ExaBGP: announcing must say so, and nothing becomes active.
    await page.getByTestId('mitigate-rtbh').click();
    const problem = page.getByTestId('mitigation-problem');
    await problem.waitFor({ timeout: 10_000 });
    expect(await problem.getAttribute('data-kind')).toBe('not-configured');
    expect(await problem.textContent()).toMatch(/not configured/);
    expect(await page.getByTestId('mitigation-state').textContent()).toBe('No mitigation active.');
    await page.getByTestId('mitigation').scrollIntoViewIfNeeded();
    expect(await page.getByTestId('data-attribution').textContent()).toBe(
      'IP to ASN data: RouteViews, DB-IP (IP Geolocation by DB-IP, https://db-ip.com), NRO, CC BY 4.0',
    );
    expect(await page.locator('[data-testid="data-attribution"] a[href="https://db-ip.com"]').count()).toBe(1);
    await screenshot(page, 'incident-reports-mitigation');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('acknowledges, notes and resolves with an audit trail', async () => {
    const incident = await fanIn();
    const { page, errors } = await openPage(suite.browser, `${suite.demo.url}/incidents/${incident.id}`);
    await page.getByTestId('incident-detail').waitFor({ timeout: 15_000 });
    await page.getByTestId('note-input').fill('called the customer, null-routing');
    await page.getByTestId('action-ack').click();
    await expect
      .poll(() => page.getByTestId('incident-status').textContent(), { timeout: 10_000 })
      .toBe('acknowledged');
    await expect
      .poll(() => page.getByTestId('audit-trail').textContent())
      .toContain('called the customer, null-routing');

    await page.getByTestId('note-input').fill('customer confirmed the mitigation');
    await page.getByTestId('action-note').click();
    await expect
      .poll(() => page.getByTestId('audit-trail').textContent())
      .toContain('customer confirmed the mitigation');

    // The server agrees: the REST detail has the status and both notes.
    const after = (await (await fetch(`${suite.demo.url}/api/incidents/${incident.id}`)).json()) as IncidentDetail;
    expect(after.status).toBe('acknowledged');
    expect(after.notes.map((n) => n.text)).toEqual(
      expect.arrayContaining(['called the customer, null-routing', 'customer confirmed the mitigation']),
    );
    await screenshot(page, 'incident-actions');

    await page.getByTestId('action-resolve').click();
    await expect.poll(() => page.getByTestId('incident-status').textContent(), { timeout: 10_000 }).toBe('resolved');
    // A status change without a note is in the trail too, with who did it.
    const resolvedRow = page.locator('[data-testid="audit-trail"] li[data-action="resolve"]');
    await expect.poll(() => resolvedRow.count(), { timeout: 10_000 }).toBe(1);
    expect(await resolvedRow.textContent()).toMatch(/resolved: acknowledged → resolved$/);
    expect(await page.locator('[data-testid="audit-trail"] li[data-action="ack"]').textContent()).toContain(
      'called the customer, null-routing',
    );
    const audit = (await (await fetch(`${suite.demo.url}/api/incidents/${incident.id}/audit`)).json()) as {
      entries: { action: string }[];
    };
    expect(audit.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['ack', 'note', 'resolve']));
    await page.getByTestId('audit-trail').scrollIntoViewIfNeeded();
    await screenshot(page, 'incident-audit');
    expect(errors).toEqual([]);
    await page.close();
  });
});
