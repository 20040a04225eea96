-- A known day of a café's event store (schema 2, as daemon/store.c
-- creates it), for `cafeguardctl report`: two seats, a crash and a
-- restart, blocks of three kinds, a hashed-list hit, a bypass attempt,
-- a splash acceptance, a failed reload and allowed-traffic counts.
-- Times are UTC; the test runs with TZ=UTC.
PRAGMA user_version = 2;
CREATE TABLE events (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,
  day TEXT NOT NULL, type TEXT NOT NULL, action TEXT, seat TEXT,
  profile TEXT, client TEXT, mac TEXT, server TEXT, server_port INTEGER,
  proto TEXT, host TEXT, app TEXT, reason TEXT, rule TEXT, category TEXT,
  list TEXT, line INTEGER, entry TEXT, detail TEXT);
CREATE TABLE traffic (day TEXT NOT NULL, hour INTEGER NOT NULL,
  seat TEXT NOT NULL, category TEXT NOT NULL, flows INTEGER NOT NULL,
  PRIMARY KEY (day, hour, seat, category)) WITHOUT ROWID;
CREATE TABLE traffic_hosts (day TEXT NOT NULL, hour INTEGER NOT NULL,
  seat TEXT NOT NULL, host TEXT NOT NULL, flows INTEGER NOT NULL,
  PRIMARY KEY (day, hour, seat, host)) WITHOUT ROWID;
-- 08:00 start; 10:00-10:30 blocks; 11:00 the daemon dies (last row
-- 11:00), restarted 11:20; 18:00 stop.
INSERT INTO events (time_ms, day, type, detail) VALUES
  (1795420800000, '2026-11-23', 'start', 'started');
INSERT INTO events (time_ms, day, type, seat, detail) VALUES
  (1795422600000, '2026-11-23', 'captive', 'seat-01', 'accepted the house rules, open until 2026-11-24 00:00');
INSERT INTO events (time_ms, day, type, action, seat, host, reason, rule, category, entry) VALUES
  (1795428000000, '2026-11-23', 'block', 'sinkhole', 'seat-01', 'www.10bet.com', 'list', 'category gambling', 'gambling', 'www.10bet.com'),
  (1795428060000, '2026-11-23', 'block', 'redirect', 'seat-01', 'www.10bet.com', 'list', 'category gambling', 'gambling', 'www.10bet.com'),
  (1795428120000, '2026-11-23', 'block', 'reset', 'seat-02', 'pornhub.com', 'list', 'category adult', 'adult', 'sha256:0123456789abcdef...'),
  (1795428180000, '2026-11-23', 'block', 'sinkhole', 'seat-01', 'nordvpn.com', 'list', 'category proxy-vpn', 'proxy-vpn', 'nordvpn.com'),
  (1795429800000, '2026-11-23', 'block', 'reset', NULL, NULL, 'app', 'app BitTorrent', NULL, NULL);
UPDATE events SET app = 'BitTorrent' WHERE rule = 'app BitTorrent';
INSERT INTO events (time_ms, day, type, detail) VALUES
  (1795431600000, '2026-11-23', 'reload', 'failed: the new rules do not load; the running rules stay in force'),
  (1795432800000, '2026-11-23', 'start', 'started'),
  (1795456800000, '2026-11-23', 'stop', 'stopped');
-- Another day: not in the report.
INSERT INTO events (time_ms, day, type, action, seat, host, reason, category) VALUES
  (1795507200000, '2026-11-24', 'block', 'reset', 'seat-01', 'other.test', 'list', 'adult');
INSERT INTO traffic VALUES
  ('2026-11-23', 10, 'seat-01', 'Web', 40), ('2026-11-23', 10, 'seat-02', 'Web', 12),
  ('2026-11-23', 11, 'seat-01', 'Game', 5), ('2026-11-24', 9, 'seat-01', 'Web', 99);
