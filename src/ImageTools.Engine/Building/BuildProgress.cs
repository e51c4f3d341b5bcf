using System;
using System.Collections.Generic;
using System.Linq;

namespace ImageTools.Building
{
    /// <summary>One line of progress: the whole run (id 1), or an image under it.</summary>
    internal sealed class ProgressLine
    {
        public ProgressLine(int id, int parentId, string activity, string status, int percent, bool completed)
        {
            Id = id;
            ParentId = parentId;
            Activity = activity;
            Status = status;
            Percent = percent;
            Completed = completed;
        }

        public int Id { get; }
        /// <summary>-1 for the run's own line.</summary>
        public int ParentId { get; }
        public string Activity { get; }
        public string Status { get; }
        /// <summary>-1 when unknown.</summary>
        public int Percent { get; }
        public bool Completed { get; }
    }

    /// <summary>
    /// Turns build events into progress lines: one for the run (done of total, what is in flight)
    /// and one per image while it builds, so parallel builds each show where they are.
    /// </summary>
    internal sealed class BuildProgress
    {
        public const int RunId = 1;
        private readonly string _activity;
        private readonly Dictionary<string, int> _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly List<string> _inFlight = new List<string>();
        private int _finished;

        public BuildProgress(string activity, IEnumerable<string> imageNames)
        {
            _activity = activity;
            foreach (var name in imageNames) _ids[name] = RunId + 1 + _ids.Count;
        }

        public IReadOnlyList<ProgressLine> On(BuildEvent e)
        {
            // Events of the run itself (pulling external bases) have no line of their own.
            if (!_ids.TryGetValue(e.Name, out var id)) return new[] { Run(e.Message) };
            ProgressLine image;
            if (e.Result == null)
            {
                if (!_inFlight.Contains(e.Name)) _inFlight.Add(e.Name);
                image = new ProgressLine(id, RunId, e.Name, e.Message, -1, completed: false);
            }
            else
            {
                _inFlight.Remove(e.Name);
                _finished++;
                image = new ProgressLine(id, RunId, e.Name, e.Message, 100, completed: true);
            }
            return new[] { Run(null), image };
        }

        /// <summary>Every image line still open (a stopped run), then the run's line, all completed.</summary>
        public IReadOnlyList<ProgressLine> Complete() =>
            _inFlight.Select(name => new ProgressLine(_ids[name], RunId, name, "Stopped", -1, completed: true))
                .Append(new ProgressLine(RunId, -1, _activity, Done(), 100, completed: true))
                .ToList();

        private ProgressLine Run(string? message) =>
            new ProgressLine(RunId, -1, _activity, message ?? Done() + (_inFlight.Count == 0 ? "" : $"; building {string.Join(", ", _inFlight)}"),
                _finished * 100 / Math.Max(1, _ids.Count), completed: false);

        private string Done() => $"{_finished} of {_ids.Count} done";
    }
}
