// Each test starts CLI processes (and some start servers); run them one at a time so a small shared
// machine is not swamped and no test waits on another's processes.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
