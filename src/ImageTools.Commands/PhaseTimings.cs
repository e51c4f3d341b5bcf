using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;

namespace ImageTools.Commands
{
    /// <summary>
    /// How long each phase of a command took (scan, graph, plan, build, verify, publish), written as
    /// one verbose line per phase when the command ends, so that a slow run shows where its time went
    /// without a profiler. A phase a command ran more than once (Get-ImageGraph over several trees)
    /// is summed; a phase it did not run is not written.
    /// </summary>
    internal sealed class PhaseTimings
    {
        private readonly List<string> _order = new List<string>();
        private readonly Dictionary<string, (TimeSpan Duration, string? Note)> _phases = new Dictionary<string, (TimeSpan, string?)>(StringComparer.Ordinal);

        public void Add(string phase, TimeSpan duration, string? note = null)
        {
            if (_phases.TryGetValue(phase, out var earlier)) _phases[phase] = (earlier.Duration + duration, note ?? earlier.Note);
            else
            {
                _order.Add(phase);
                _phases[phase] = (duration, note);
            }
        }

        /// <summary>One line per phase, in the order the phases ran; then forgets them.</summary>
        public void WriteTo(Cmdlet cmdlet)
        {
            foreach (var phase in _order) cmdlet.WriteVerbose(Line(phase, _phases[phase].Duration, _phases[phase].Note));
            _order.Clear();
            _phases.Clear();
        }

        /// <summary>"Phase scan: 0.412 s (1000 images)": the same words in every command, to grep logs by.</summary>
        internal static string Line(string phase, TimeSpan duration, string? note) =>
            string.Format(CultureInfo.InvariantCulture, "Phase {0}: {1:F3} s{2}", phase, duration.TotalSeconds, note == null ? "" : " (" + note + ")");
    }
}
