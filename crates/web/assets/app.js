// newsflow's page script: the live feed (Server-Sent Events) and the entity timeline chart
// (Chart.js). Plain JavaScript, no framework; the page works without it, only less live.
(function () {
  'use strict';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function shownTime(rfc3339) {
    var time = new Date(rfc3339);
    if (isNaN(time.getTime())) return rfc3339 || '';
    return time.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  }

  // The same card the server renders for a stored article.
  function card(article) {
    var item = el('li', 'card new');
    item.dataset.id = article.id;
    var heading = el('h2');
    var shown = article.title || (article.excerpt.length > 80 ? article.excerpt.slice(0, 80) + '…' : article.excerpt);
    var link = el('a', '', shown);
    link.href = '/articles/' + encodeURIComponent(article.id);
    heading.appendChild(link);
    item.appendChild(heading);
    var meta = el('p', 'meta');
    if (article.time) {
      var time = el('time', '', shownTime(article.time));
      time.setAttribute('datetime', article.time);
      meta.appendChild(time);
      meta.appendChild(document.createTextNode(' · '));
    }
    meta.appendChild(document.createTextNode(article.source + ' · ' + article.entity_count +
      ' entities · ' + article.statement_count + ' statements · ' + article.stance_count + ' stances'));
    item.appendChild(meta);
    item.appendChild(el('p', 'excerpt', article.excerpt));
    if (article.top_entities && article.top_entities.length) {
      var who = el('p', 'who');
      who.appendChild(document.createTextNode('Mentions: '));
      article.top_entities.forEach(function (entity, index) {
        if (index) who.appendChild(document.createTextNode(', '));
        var a = el('a', '', entity.name);
        a.href = '/entities/' + encodeURIComponent(entity.key);
        who.appendChild(a);
      });
      item.appendChild(who);
    }
    return item;
  }

  function startFeed() {
    var feed = document.getElementById('feed');
    var status = document.getElementById('live-status');
    if (!feed || !feed.dataset.stream || !status || !window.EventSource) return;
    function say(state, text) {
      status.dataset.state = state;
      status.textContent = text;
    }
    var source = new EventSource(feed.dataset.stream);
    source.addEventListener('ready', function () {
      say('connected', 'Live updates: on. New articles appear at the top as they are stored.');
    });
    source.addEventListener('article', function (event) {
      var article = JSON.parse(event.data);
      var seen = Array.prototype.some.call(feed.children, function (item) {
        return item.dataset.id === article.id;
      });
      if (seen) return;
      feed.insertBefore(card(article), feed.firstChild);
      var empty = document.getElementById('feed-empty');
      if (empty) empty.hidden = true;
    });
    source.onerror = function () {
      say('reconnecting', 'Live updates: the service cannot be reached; reconnecting…');
    };
  }

  function startChart() {
    var canvas = document.getElementById('timeline-chart');
    var data = document.getElementById('timeline-data');
    if (!canvas || !data) return;
    if (!window.Chart) {
      canvas.parentNode.appendChild(el('p', 'note', 'The chart library did not load; the numbers are in the table below.'));
      return;
    }
    var series = JSON.parse(data.textContent);
    var line = function (label, values, color, dash) {
      return { type: 'line', label: label, data: values, borderColor: color, backgroundColor: color,
               borderDash: dash || [], pointRadius: 4, tension: 0, order: 1, yAxisID: 'y' };
    };
    new window.Chart(canvas, {
      data: {
        labels: series.labels,
        datasets: [
          { type: 'bar', label: 'Mentions', data: series.mentions, backgroundColor: '#7d9cc7',
            maxBarThickness: 56, order: 2, yAxisID: 'y' },
          line('Stances for', series.positive, '#1b6e36'),
          line('Stances against', series.negative, '#a4231b'),
          line('Neutral stances', series.neutral, '#5a5f66', [5, 4])
        ]
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { labels: { color: '#1b1f24' } } }
      }
    });
    canvas.dataset.rendered = 'true';
  }

  startFeed();
  startChart();
})();
