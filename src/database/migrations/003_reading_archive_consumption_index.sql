-- Consumption windows over each meter's readings in time order (lag per meter). With the installation
-- first, one installation's rows come out of each daily partition already ordered by (meter, time), so
-- the window needs no sort; the included registers let the query read the index alone.
CREATE INDEX reading_archive_installation_meter_time_idx
  ON reading_archive (installation_id, meter_id, reading_time)
  INCLUDE (imported_wh, exported_wh, power_w);
