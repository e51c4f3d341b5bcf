using System;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Registry
{
    /// <summary>
    /// How often and how patiently a registry call is tried again after a transient failure
    /// (connection error, timeout, 429, 5xx). Waits grow exponentially from <see cref="BaseDelay"/>,
    /// capped at <see cref="MaxDelay"/>, with up to <see cref="Jitter"/> of random spread so that
    /// parallel pushes do not return in lockstep; a Retry-After header is honoured up to
    /// <see cref="MaxRetryAfter"/>. Auth and client errors (401, 403, 404, other 4xx) never reach
    /// this class as retryable: trying them again cannot help. The registry transport is the one
    /// loop that runs it (<see cref="RegistryErrors.IsTransient"/> says what is transient); nothing
    /// above the registry client tries a request again.
    /// </summary>
    internal sealed class RetryPolicy
    {
        private static readonly Random Seed = new Random();

        public RetryPolicy(int maxAttempts = 4, TimeSpan? baseDelay = null, TimeSpan? maxDelay = null, double jitter = 0.2,
            TimeSpan? maxRetryAfter = null)
        {
            if (maxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(maxAttempts), "At least one attempt is needed.");
            if (jitter < 0 || jitter > 1) throw new ArgumentOutOfRangeException(nameof(jitter), "Jitter is a fraction between 0 and 1.");
            MaxAttempts = maxAttempts;
            BaseDelay = baseDelay ?? TimeSpan.FromMilliseconds(500);
            MaxDelay = maxDelay ?? TimeSpan.FromSeconds(30);
            Jitter = jitter;
            MaxRetryAfter = maxRetryAfter ?? TimeSpan.FromSeconds(60);
        }

        /// <summary>Four attempts, waits of about 0.5 s, 1 s, 2 s.</summary>
        public static RetryPolicy Default { get; } = new RetryPolicy();

        /// <summary>One attempt, no retries.</summary>
        public static RetryPolicy None { get; } = new RetryPolicy(1);

        /// <summary>Attempts in all, the first included.</summary>
        public int MaxAttempts { get; }
        public TimeSpan BaseDelay { get; }
        public TimeSpan MaxDelay { get; }
        public double Jitter { get; }
        public TimeSpan MaxRetryAfter { get; }

        /// <summary>The wait after failed attempt <paramref name="attempt"/> (1-based).</summary>
        public TimeSpan DelayAfter(int attempt, TimeSpan? retryAfter = null)
        {
            var exponential = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1));
            var capped = Math.Min(exponential, MaxDelay.TotalMilliseconds);
            double spread;
            lock (Seed) spread = (Seed.NextDouble() * 2 - 1) * Jitter;
            var delay = TimeSpan.FromMilliseconds(Math.Max(0, capped * (1 + spread)));
            if (retryAfter.HasValue)
            {
                var asked = retryAfter.Value < MaxRetryAfter ? retryAfter.Value : MaxRetryAfter;
                if (asked > delay) delay = asked;
            }
            return delay;
        }

        /// <summary>
        /// Runs <paramref name="attempt"/> until it returns, throws something other than
        /// <see cref="TransientFailure"/>, or the attempts are used up (then the last failure's
        /// <see cref="TransientFailure.Final"/> error is thrown).
        /// </summary>
        public async Task<T> ExecuteAsync<T>(Func<int, CancellationToken, Task<T>> attempt, Action<TransientFailure, int, TimeSpan>? onRetry,
            CancellationToken cancellationToken)
        {
            for (var number = 1; ; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    return await attempt(number, cancellationToken).ConfigureAwait(false);
                }
                catch (TransientFailure failure)
                {
                    if (number >= MaxAttempts) throw failure.Final;
                    var delay = DelayAfter(number, failure.RetryAfter);
                    onRetry?.Invoke(failure, number, delay);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Thrown by an attempt to ask for another one; <see cref="Final"/> is what the caller sees when none is left.</summary>
    internal sealed class TransientFailure : Exception
    {
        public TransientFailure(string reason, Exception final, TimeSpan? retryAfter = null) : base(reason, final)
        {
            Final = final;
            RetryAfter = retryAfter;
        }

        public Exception Final { get; }
        public TimeSpan? RetryAfter { get; }
    }
}
