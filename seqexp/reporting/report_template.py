# ruff: noqa: E501  (HTML and CSS lines: a template, not code)
"""The Jinja2 template of ``report.html`` (kept in a module so that it ships with the package).

The page is fluid up to 1360 px (a 1400 px window never scrolls sideways), tables wrap their text
rather than widen the page, and the print style fits A4: one figure per line, no navigation
colours, rows and figures never split across pages.
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>seqexp report: {{ runs }} run(s)</title>
<style>
  :root { --ink: #1d2430; --muted: #5b6675; --line: #d9dee5; --good: #1a7f37; --bad: #b42318;
          --unclear: #9a6700; --band: #f5f7fa; }
  * { box-sizing: border-box; }
  html { -webkit-text-size-adjust: 100%; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
         color: var(--ink); margin: 0 auto; padding: 24px 20px 48px; max-width: 1360px; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 19px; margin: 36px 0 6px; padding-top: 10px; border-top: 2px solid var(--line); }
  h3 { font-size: 15px; margin: 22px 0 8px; }
  p, li { max-width: 95ch; }
  .muted { color: var(--muted); }
  .warning { border-left: 4px solid var(--unclear); background: #fff8e6; padding: 8px 12px; margin: 14px 0; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 14px; margin: 16px 0; }
  .card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; background: var(--band); }
  .card h3 { margin: 0 0 6px; }
  .card dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 8px; }
  .card dt { color: var(--muted); }
  .card dd { margin: 0; overflow-wrap: anywhere; }
  .verdict { font-weight: 600; }
  .good { color: var(--good); } .bad { color: var(--bad); } .unclear { color: var(--unclear); }
  .scroll { max-width: 100%; overflow-x: auto; }
  table { border-collapse: collapse; font-size: 12.5px; }
  th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; vertical-align: top; }
  th { background: var(--band); text-align: left; font-weight: 600; vertical-align: bottom; white-space: nowrap; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.num { white-space: nowrap; }
  th.baseline_pr_auc { white-space: normal; min-width: 8ch; }
  td.text { overflow-wrap: break-word; min-width: 4ch; }
  td.name { white-space: nowrap; }
  tr.child td:first-child { padding-left: 22px; color: var(--muted); }
  td .note { color: var(--muted); font-size: 11.5px; }
  tr.failed td, tr.interrupted td, tr.running td, tr.incomplete td, tr.unreadable td { color: var(--bad); }
  .figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
  figure { margin: 0; }
  figure img { width: 100%; max-width: 660px; height: auto; display: block; }
  figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
  .diff li, .errors li { margin: 4px 0; }
  .diff code, .shared code { font-size: 12px; background: var(--band); padding: 0 4px; border-radius: 3px;
                             overflow-wrap: anywhere; }
  pre.error { white-space: pre-wrap; overflow-wrap: anywhere; background: #fdf1f0; border-left: 4px solid var(--bad);
              padding: 8px 12px; margin: 4px 0 12px; font-size: 12.5px; }
  @page { size: A4; margin: 14mm 12mm; }
  @media print {
    body { font-size: 10pt; max-width: none; padding: 0; }
    h2 { break-before: auto; break-after: avoid; }
    .cards { grid-template-columns: 1fr; }
    .card { break-inside: avoid; background: none; }
    .figures { grid-template-columns: 1fr; }
    figure { break-inside: avoid; }
    figure img { max-width: 150mm; }
    table { font-size: 8.5pt; }
    tr { break-inside: avoid; }
    td.name { white-space: normal; }
    .print-hidden { display: none; }
    .scroll { overflow: visible; }
    details { display: none; }
  }
</style>
</head>
<body>
<header>
  <h1>Experiment report</h1>
  <p class="muted">{{ runs }} run(s), {{ completed }} completed, on {{ sections|length }} data set(s).
  Test-split metrics at each run's threshold (chosen on validation), ranked by {{ sort }}.
  Generated {{ generated }} by <code>seqexp compare</code>.</p>
</header>

{% if warning %}<p class="warning"><strong>Different data.</strong> {{ warning }}. Runs are ranked only
against runs of the same data.</p>{% endif %}
{% for note in notes %}<p class="warning">{{ note }}</p>{% endfor %}

<section id="summary">
  <h2>Summary</h2>
  <div class="cards">
  {% for s in sections %}
    <div class="card">
      <h3>{{ s.title }}</h3>
      <dl>
        <dt>Rows</dt><dd>{{ s.rows_of_data }}</dd>
        <dt>Positive rate</dt><dd>{{ s.positive_rate }}</dd>
        <dt>Protocol</dt><dd>{{ s.protocol }}</dd>
        {% if s.summary.best %}<dt>Best run</dt><dd>{{ s.summary.best }}</dd>
        <dt>{{ s.summary.metric }}</dt><dd>{{ s.summary.value }}</dd>{% endif %}
      </dl>
      <p class="verdict {{ s.summary.tone }}">{{ s.summary.verdict }}</p>
    </div>
  {% endfor %}
  </div>
  {% if failed %}<p class="bad">{{ failed|length }} run(s) did not complete: see
  <a href="#failed">Runs that did not complete</a>.</p>{% endif %}
</section>

{% for s in sections %}
<section class="data-section">
  <h2>{{ s.title }}</h2>
  <p class="muted">{{ s.rows_of_data }} rows, positive rate {{ s.positive_rate }}; {{ s.protocol }};
  data fingerprint <code>{{ s.fingerprint }}</code>.</p>

  <h3>Leaderboard</h3>
  <div class="scroll">
  <table class="leaderboard">
    <thead><tr>{% for c in s.columns %}<th class="{{ c.css }}">{{ c.label }}</th>{% endfor %}</tr></thead>
    <tbody>
    {% for r in s.rows %}<tr class="{{ r.status }}{{ ' child' if r.child }}">{% for c in r.cells %}<td class="{{ s.columns[loop.index0].css }}">{{ c.value }}{% if c.note %}<br><span class="note">{{ c.note }}</span>{% endif %}</td>{% endfor %}</tr>
    {% endfor %}
    </tbody>
  </table>
  </div>

  {% if s.figures %}
  <h3>Curves</h3>
  <div class="figures">
  {% for f in s.figures %}<figure><img src="{{ f.src }}" alt="{{ f.alt }}"><figcaption>{{ f.caption }}</figcaption></figure>
  {% endfor %}
  </div>
  {% endif %}
  {% for note in s.notes %}<p class="muted">{{ note }}</p>{% endfor %}

  <h3>How the runs' configurations differ</h3>
  {% if s.differences.runs %}
  <ul class="diff">
  {% for d in s.differences.runs %}<li><strong>{{ d.name }}</strong>: {% for v in d["values"] %}<code>{{ v }}</code>{{ " " if not loop.last }}{% endfor %}</li>
  {% endfor %}
  </ul>
  {% else %}<p class="muted">One run, or runs with the same configuration.</p>{% endif %}
  {% if s.differences.shared %}
  <details class="shared"><summary>Settings every run of this data shares ({{ s.differences.shared|length }})</summary>
  <p>{% for v in s.differences.shared %}<code>{{ v }}</code> {% endfor %}</p></details>
  {% endif %}
</section>
{% endfor %}

{% if failed %}
<section id="failed">
  <h2>Runs that did not complete</h2>
  <ul class="errors">
  {% for f in failed %}<li><strong>{{ f.name }}</strong> <span class="bad">{{ f.status }}</span> <span class="muted">{{ f.path }}</span>
  <pre class="error">{{ f.error or "no error recorded (the process may still be running, or was killed)" }}</pre></li>
  {% endfor %}
  </ul>
</section>
{% endif %}
</body>
</html>
"""
