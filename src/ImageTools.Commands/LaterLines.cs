using System;
using System.Collections.Concurrent;

namespace ImageTools.Commands
{
    /// <summary>
    /// Lines that worker threads report (registry events) and the pipeline thread writes afterwards,
    /// since only that thread may write to PowerShell's streams.
    /// </summary>
    internal sealed class LaterLines : IProgress<string>
    {
        private readonly ConcurrentQueue<string> _lines = new ConcurrentQueue<string>();

        public void Report(string value) => _lines.Enqueue(value);

        public void WriteVerbose(System.Management.Automation.Cmdlet cmdlet)
        {
            while (_lines.TryDequeue(out var line)) cmdlet.WriteVerbose(line);
        }
    }
}
