using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Tests.Registry
{
    /// <summary>
    /// A TCP proxy on 127.0.0.1 in front of a registry that injects faults. Into the first requests:
    /// an HTTP status (503, 429 with Retry-After), an answer cut off, or a dropped connection; later
    /// connections are forwarded untouched. A slow and flaky network, on every request: a delay
    /// (<see cref="DelayPerRequest"/>), a reset of a share of the connections (<see cref="ResetPercent"/>,
    /// drawn from a fixed <see cref="Seed"/>) and a 429 with Retry-After on every n-th request
    /// (<see cref="RateLimitEvery"/>); with any of these on, each connection carries one request
    /// (the proxy asks for <c>Connection: close</c>), so that every request meets them. A registry that
    /// dies: <see cref="Kill"/>, or by itself after <see cref="DieAfterUploadBytes"/> bytes of request
    /// bodies, stops listening and resets every open connection. TLS hellos (the client's HTTPS probe)
    /// are closed without counting.
    /// </summary>
    public sealed class FaultProxy : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly int _upstreamPort;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private int _faultsLeft;
        private readonly Func<string, bool>? _faultWhen;
        private readonly ConcurrentDictionary<TcpClient, bool> _open = new ConcurrentDictionary<TcpClient, bool>();
        // A request line whose last attempt was faulted by a flaky-network mode: its next attempt goes through,
        // so that the modes make a network slow and flaky, not one that refuses a request for good.
        private readonly ConcurrentDictionary<string, bool> _faultedLast = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        private Random? _random;
        private int _requests;
        private long _uploaded;
        private int _resets;
        private int _rateLimited;
        private int _forwarded;
        private int _faultsInjected;

        /// <param name="faultWhen">Which connections may be faulted, judged by their first request head; all when null.</param>
        public FaultProxy(int upstreamPort, int faults = 0, string? status = null, string? extraHeader = null, Func<string, bool>? faultWhen = null)
        {
            _upstreamPort = upstreamPort;
            _faultsLeft = faults;
            _faultWhen = faultWhen;
            Status = status;
            ExtraHeader = extraHeader;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(AcceptLoopAsync);
        }

        /// <summary>e.g. "503 Service Unavailable"; null drops the connection instead.</summary>
        public string? Status { get; }
        /// <summary>The <c>status</c> that makes a fault an answer cut off after its headers.</summary>
        public const string CutResponse = "cut";
        public string? ExtraHeader { get; }
        public int Port { get; }
        public string Address => $"127.0.0.1:{Port}";
        public int FaultsInjected => Volatile.Read(ref _faultsInjected);
        public int Forwarded => Volatile.Read(ref _forwarded);

        /// <summary>How long each request waits before it is forwarded (network latency).</summary>
        public TimeSpan DelayPerRequest { get; set; }
        /// <summary>The share of connections, in percent, reset after their request head arrived, before any answer.</summary>
        public int ResetPercent { get; set; }
        /// <summary>Seeds the draw of <see cref="ResetPercent"/>, so that a run resets the same share the same way.</summary>
        public int Seed { get; set; } = 18;
        /// <summary>Every n-th request is answered 429 Too Many Requests with Retry-After: <see cref="RetryAfterSeconds"/>; 0: none.</summary>
        public int RateLimitEvery { get; set; }
        public int RetryAfterSeconds { get; set; } = 1;
        /// <summary>When set, the proxy dies (<see cref="Kill"/>) once this many bytes of request bodies went through: a registry dying mid-upload.</summary>
        public long? DieAfterUploadBytes { get; set; }
        /// <summary>Take every connection and its request, and never answer: a registry that hangs.</summary>
        public bool NeverAnswer { get; set; }

        /// <summary>Requests seen (connections with a request head).</summary>
        public int Requests => Volatile.Read(ref _requests);
        public int Resets => Volatile.Read(ref _resets);
        public int RateLimited => Volatile.Read(ref _rateLimited);
        public bool Killed { get; private set; }

        private bool Flaky => DelayPerRequest > TimeSpan.Zero || ResetPercent > 0 || RateLimitEvery > 0;

        /// <summary>The registry dies: nothing listens at the address any more, and every open connection is reset.</summary>
        public void Kill()
        {
            Killed = true;
            _stop.Cancel();
            try { _listener.Stop(); }
            catch (SocketException) { }
            foreach (var client in _open.Keys) Reset(client);
        }

        private static void Reset(TcpClient client)
        {
            try
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Close();
            }
            catch (Exception) { }
        }

        private async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(() => HandleAsync(client));
            }
        }

        private async Task HandleAsync(TcpClient client)
        {
            _open[client] = true;
            try
            {
                using (client) await ServeAsync(client);
            }
            catch (Exception)
            {
                // A connection the client or Kill closed under us.
            }
            finally
            {
                _open.TryRemove(client, out _);
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream);
            if (head == null || head.Length == 0 || head[0] == 0x16) return; // TLS ClientHello or nothing
            var text = Encoding.ASCII.GetString(head);
            var number = Interlocked.Increment(ref _requests);
            if (NeverAnswer)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
                return;
            }
            if ((_faultWhen == null || _faultWhen(text)) && Interlocked.Decrement(ref _faultsLeft) >= 0)
            {
                Interlocked.Increment(ref _faultsInjected);
                if (Status == CutResponse)
                {
                    // Headers and the start of a body, then a reset: an answer already begun, which no
                    // HTTP stack resends on its own, so only the client's retry policy can get past it.
                    var bytes = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"");
                    await stream.WriteAsync(bytes, 0, bytes.Length);
                    await stream.FlushAsync();
                    await Task.Delay(50);
                }
                else if (Status != null)
                {
                    var answer = $"HTTP/1.1 {Status}\r\nContent-Length: 0\r\nConnection: close\r\n{(ExtraHeader != null ? ExtraHeader + "\r\n" : "")}\r\n";
                    var bytes = Encoding.ASCII.GetBytes(answer);
                    await stream.WriteAsync(bytes, 0, bytes.Length);
                }
                client.Client.LingerState = new LingerOption(true, 0);
                return;
            }
            if (Flaky)
            {
                if (DelayPerRequest > TimeSpan.Zero) await Task.Delay(DelayPerRequest, _stop.Token);
                var line = text.Substring(0, Math.Max(0, text.IndexOf('\r')));
                var spared = _faultedLast.TryRemove(line, out _);
                if (!spared && ResetPercent > 0 && Draw() < ResetPercent)
                {
                    _faultedLast[line] = true;
                    Interlocked.Increment(ref _resets);
                    Reset(client);
                    return;
                }
                if (!spared && RateLimitEvery > 0 && number % RateLimitEvery == 0)
                {
                    _faultedLast[line] = true;
                    Interlocked.Increment(ref _rateLimited);
                    // Read the body first, so that the client is not writing into a closed connection when the answer comes.
                    await DiscardAsync(stream, ContentLength(text));
                    var bytes = Encoding.ASCII.GetBytes($"HTTP/1.1 429 Too Many Requests\r\nRetry-After: {RetryAfterSeconds}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    await stream.WriteAsync(bytes, 0, bytes.Length);
                    await stream.FlushAsync();
                    client.Client.Shutdown(SocketShutdown.Send);
                    await Task.Delay(100);
                    return;
                }
                head = Encoding.ASCII.GetBytes(OneRequestPerConnection(text));
            }
            Interlocked.Increment(ref _forwarded);
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort);
            _open[upstream] = true;
            try
            {
                var upstreamStream = upstream.GetStream();
                await upstreamStream.WriteAsync(head, 0, head.Length);
                var up = CopyCountingAsync(stream, upstreamStream);
                var down = upstreamStream.CopyToAsync(stream);
                await Task.WhenAny(up, down);
            }
            finally
            {
                _open.TryRemove(upstream, out _);
            }
        }

        private static long ContentLength(string head)
        {
            foreach (var line in head.Split(new[] { "\r\n" }, StringSplitOptions.None))
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) && long.TryParse(line.Substring(15).Trim(), out var length))
                    return length;
            return 0;
        }

        private static async Task DiscardAsync(Stream stream, long length)
        {
            var buffer = new byte[16384];
            while (length > 0)
            {
                var read = await stream.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, length));
                if (read == 0) return;
                length -= read;
            }
        }

        private int Draw()
        {
            lock (_stop)
            {
                _random ??= new Random(Seed);
                return _random.Next(100);
            }
        }

        /// <summary>The head with <c>Connection: close</c> instead of any Connection header the client sent.</summary>
        private static string OneRequestPerConnection(string head)
        {
            var lines = head.Split(new[] { "\r\n" }, StringSplitOptions.None).ToList();
            lines.RemoveAll(l => l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase));
            // The head ends with two empty strings (the blank line); the header goes before them.
            lines.Insert(lines.Count - 2, "Connection: close");
            return string.Join("\r\n", lines);
        }

        /// <summary>Request bytes to the registry, counted for <see cref="DieAfterUploadBytes"/>.</summary>
        private async Task CopyCountingAsync(Stream from, Stream to)
        {
            var buffer = new byte[16384];
            int read;
            while ((read = await from.ReadAsync(buffer, 0, buffer.Length)) > 0)
            {
                var limit = DieAfterUploadBytes;
                if (limit.HasValue && Interlocked.Add(ref _uploaded, read) > limit.Value)
                {
                    Kill();
                    return;
                }
                await to.WriteAsync(buffer, 0, read);
            }
        }

        /// <summary>Reads up to the end of the request head (or the first bytes of a TLS hello).</summary>
        private static async Task<byte[]?> ReadHeadAsync(NetworkStream stream)
        {
            var buffer = new MemoryStream();
            var one = new byte[1];
            while (true)
            {
                int read;
                try { read = await stream.ReadAsync(one, 0, 1); }
                catch (IOException) { return null; }
                if (read == 0) return buffer.ToArray();
                buffer.WriteByte(one[0]);
                if (buffer.Length == 1 && one[0] == 0x16) return buffer.ToArray();
                var bytes = buffer.GetBuffer();
                var length = (int)buffer.Length;
                if (length >= 4 && bytes[length - 4] == '\r' && bytes[length - 3] == '\n' && bytes[length - 2] == '\r' && bytes[length - 1] == '\n')
                    return buffer.ToArray();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            foreach (var client in _open.Keys) Reset(client);
        }
    }
}
