using ComputeBroker.Cli;

return await BrokerApp.RunAsync(args).ConfigureAwait(false);
