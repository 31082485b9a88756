/// The console's style sheet and script, shipped in the binary (no front-end toolchain). Pages work without the
/// script; it only adds the live parts (server-sent events) and the periodic refresh of the overview's figures.
enum ConsoleAssets {
    static let css = """
        :root { --ink: #1d2430; --muted: #5d6675; --line: #d9dee7; --accent: #b5471b; --ok: #2f7d32; --warn: #b07b00;
          --bad: #b3261e; --paper: #fbfaf7; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
          background: var(--paper); }
        header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; background: #23201c;
          color: #f4efe6; }
        header .brand { font-weight: 700; color: #f2b84b; letter-spacing: .02em; }
        header nav a { color: #e9e2d6; text-decoration: none; margin-right: 1rem; }
        header nav a.current { color: #fff; border-bottom: 2px solid #f2b84b; }
        header .mode { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px; }
        header .mode.read { background: #3c3a36; } header .mode.write { background: var(--accent); }
        main { padding: 1rem 1.4rem 3rem; max-width: 1400px; }
        h1 { font-size: 20px; margin: .2rem 0 1rem; } h2 { font-size: 16px; margin: 1.6rem 0 .5rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 1rem; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #f1eee8; font-weight: 600; font-size: 12px; text-transform: uppercase; color: var(--muted); }
        td code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
        pre { background: #fff; border: 1px solid var(--line); padding: .6rem; overflow: auto; max-height: 28rem; }
        a { color: #1f5fa8; }
        .notice { padding: .5rem .8rem; border-left: 4px solid var(--line); background: #fff; }
        .notice.ok { border-color: var(--ok); } .notice.warn { border-color: var(--warn); }
        .notice.error { border-color: var(--bad); }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 1rem; }
        .facts dt { color: var(--muted); } .facts dd { margin: 0; }
        .map { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .4rem 2rem; }
        .system { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem;
          margin-bottom: 1rem; }
        .node { display: inline-block; border: 1px solid var(--line); border-radius: 4px; padding: 2px 6px;
          margin: 2px; background: #fdfcf9; }
        .node.topic { border-color: #9db4d6; } .node.service { border-color: #d6ad8c; }
        .node .badge, .badge { font-size: 11px; border-radius: 8px; padding: 0 6px; margin-left: 4px;
          background: #eee; }
        .badge.bad { background: #f6d5d2; color: var(--bad); } .badge.good { background: #dbeedc; color: var(--ok); }
        .edge { font-size: 12px; color: var(--muted); }
        form.inline { display: inline; }
        form fieldset { border: 1px solid var(--line); background: #fff; margin-bottom: 1rem; }
        label { display: inline-block; margin: 0 .8rem .4rem 0; }
        input, select, textarea, button { font: inherit; }
        textarea { width: 100%; min-height: 14rem; font: 12px/1.4 ui-monospace, monospace; }
        button { background: var(--accent); color: #fff; border: 0; padding: 4px 12px; border-radius: 4px; }
        button.secondary { background: #5d6675; }
        .spark { font-family: ui-monospace, monospace; letter-spacing: -1px; color: var(--accent); }
        .tree ul { list-style: none; padding-left: 1.4rem; border-left: 1px dashed var(--line); }
        .tree li { margin: .3rem 0; }
        .muted { color: var(--muted); }
        """

    static let javascript = """
        // Live parts only: every page works without this script.
        (function () {
          function rowFor(event) {
            var tr = document.createElement('tr');
            tr.setAttribute('data-key', event.position);
            tr.className = 'live';
            event.cells.forEach(function (html) { var td = document.createElement('td'); td.innerHTML = html;
              tr.appendChild(td); });
            return tr;
          }
          var tail = document.querySelector('[data-tail]');
          if (tail && window.EventSource) {
            var source = new EventSource(tail.getAttribute('data-tail'));
            var body = document.querySelector('#messages tbody');
            var status = document.getElementById('tail-status');
            source.addEventListener('record', function (message) {
              var event = JSON.parse(message.data);
              if (body) { body.insertBefore(rowFor(event), body.firstChild); }
            });
            source.addEventListener('open', function () { if (status) { status.textContent = 'live tail: following'; } });
            source.addEventListener('error', function () { if (status) { status.textContent = 'live tail: reconnecting'; } });
          }
          var live = document.querySelector('[data-refresh]');
          if (live) {
            var every = parseInt(live.getAttribute('data-refresh'), 10) * 1000;
            setInterval(function () {
              fetch(window.location.href, { headers: { 'Accept': 'text/html' } }).then(function (response) {
                return response.text();
              }).then(function (html) {
                var next = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-refresh]');
                if (next) { live.innerHTML = next.innerHTML; }
              }).catch(function () {});
            }, every);
          }
        })();
        """
}
