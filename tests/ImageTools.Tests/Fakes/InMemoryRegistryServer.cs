using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Tests.Registry;

namespace ImageTools.Tests.Fakes
{
    /// <summary>
    /// An <see cref="InMemoryRegistry"/> served over HTTP on 127.0.0.1, so that a <see cref="FaultProxy"/>
    /// can stand between it and the registry client: the fast tier's way to play faults on real sockets
    /// without the registry program. Upload locations are rewritten to the address the client spoke to.
    /// </summary>
    internal sealed class InMemoryRegistryServer : IDisposable
    {
        private readonly HttpMessageInvoker _invoker;
        private readonly LoopbackHttpServer _http;

        public InMemoryRegistryServer(InMemoryRegistry registry)
        {
            Registry = registry;
            _invoker = new HttpMessageInvoker(registry, disposeHandler: false);
            _http = new LoopbackHttpServer(HandleAsync);
        }

        public InMemoryRegistry Registry { get; }
        public int Port => _http.Port;
        public string Address => _http.Address;

        private async Task HandleAsync(HttpListenerContext context)
        {
            var request = context.Request;
            using var message = new HttpRequestMessage(new HttpMethod(request.HttpMethod), $"http://{InMemoryRegistry.Address}{request.RawUrl}");
            if (request.HasEntityBody)
            {
                using var body = new MemoryStream();
                await request.InputStream.CopyToAsync(body);
                message.Content = new ByteArrayContent(body.ToArray());
                if (request.ContentType != null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }
            using var answer = await _invoker.SendAsync(message, CancellationToken.None);
            var response = context.Response;
            response.StatusCode = (int)answer.StatusCode;
            foreach (var header in answer.Headers.Where(h => h.Key != "Location"))
                response.AddHeader(header.Key, string.Join(",", header.Value));
            if (answer.Headers.Location != null)
                response.AddHeader("Location", answer.Headers.Location.ToString().Replace(InMemoryRegistry.Address, request.Headers["Host"] ?? Address));
            var bytes = answer.Content == null ? Array.Empty<byte>() : await answer.Content.ReadAsByteArrayAsync();
            if (answer.Content?.Headers.ContentType != null) response.ContentType = answer.Content.Headers.ContentType.ToString();
            if (request.HttpMethod == "HEAD") return;
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes, 0, bytes.Length);
        }

        public void Dispose()
        {
            _http.Dispose();
            _invoker.Dispose();
        }
    }
}
