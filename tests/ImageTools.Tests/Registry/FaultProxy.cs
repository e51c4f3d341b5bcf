using System;
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
    /// A TCP proxy on 127.0.0.1 in front of a registry that injects faults into the first requests:
    /// an HTTP status (503, 429 with Retry-After) or a dropped connection; later connections are
    /// forwarded untouched. TLS hellos (the client's HTTPS probe) are closed without counting.
    /// </summary>
    public sealed class FaultProxy : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly int _upstreamPort;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private int _faultsLeft;
        private readonly Func<string, bool>? _faultWhen;

        /// <param name="faultWhen">Which connections may be faulted, judged by their first request head; all when null.</param>
        public FaultProxy(int upstreamPort, int faults, string? status, string? extraHeader = null, Func<string, bool>? faultWhen = null)
        {
            _upstreamPort = upstreamPort;
            _faultsLeft = faults;
            _faultWhen = faultWhen;
            Status = status;
            ExtraHeader = extraHeader;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _ = Task.Run(AcceptLoopAsync);
        }

        /// <summary>e.g. "503 Service Unavailable"; null drops the connection instead.</summary>
        public string? Status { get; }
        /// <summary>The <c>status</c> that makes a fault an answer cut off after its headers.</summary>
        public const string CutResponse = "cut";
        public string? ExtraHeader { get; }
        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public string Address => $"127.0.0.1:{Port}";
        public int FaultsInjected { get; private set; }
        public int Forwarded { get; private set; }

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
            using (client)
            {
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream);
                if (head == null || head.Length == 0 || head[0] == 0x16) return; // TLS ClientHello or nothing
                if ((_faultWhen == null || _faultWhen(Encoding.ASCII.GetString(head))) && Interlocked.Decrement(ref _faultsLeft) >= 0)
                {
                    FaultsInjected++;
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
                Forwarded++;
                using var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort);
                var upstreamStream = upstream.GetStream();
                await upstreamStream.WriteAsync(head, 0, head.Length);
                var up = stream.CopyToAsync(upstreamStream);
                var down = upstreamStream.CopyToAsync(stream);
                await Task.WhenAny(up, down);
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
        }
    }
}
