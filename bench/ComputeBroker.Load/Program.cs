using ComputeBroker.Load;

// The durable service under load: N request workflows (submit over HTTP, first-refusal offer answered in
// part by the holder, four quotes, awards, reservations) on SQLite and on PostgreSQL, beside the raw limit of
// each database measured in the same run: N durable single-row commits at the same concurrency, doing nothing else.
return await LoadApp.RunAsync(args);
