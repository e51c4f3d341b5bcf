using System;
using System.IO;
using System.Net.Http;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Registry
{
    /// <summary>
    /// The open body of a streamed answer (<see cref="RegistryRequest.StreamBody"/>). Each read has the request
    /// timeout of its own, so a blob of any size may take as long as it needs while a stalled connection still
    /// fails; a connection that breaks or stalls mid-body becomes the registry's typed error (Unreachable,
    /// Timeout), as a whole-body answer's would. Disposing it frees the connection.
    /// </summary>
    internal sealed class BodyStream : Stream
    {
        private readonly HttpResponseMessage _answer;
        private readonly Stream _inner;
        private readonly RegistryRequest _request;
        private readonly TimeSpan _timeout;
        private readonly RegistryErrors _errors;

        public BodyStream(HttpResponseMessage answer, Stream inner, RegistryRequest request, TimeSpan timeout, RegistryErrors errors)
        {
            _answer = answer;
            _inner = inner;
            _request = request;
            _timeout = timeout;
            _errors = errors;
        }

        /// <summary>Content-Length of the answer, when it said one.</summary>
        public long? ContentLength => _answer.Content?.Headers.ContentLength;

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            try
            {
                return await _inner.ReadAsync(buffer, offset, count, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw _errors.Timeout(_request, _timeout);
            }
            catch (IOException e)
            {
                throw _errors.Unreachable(_request.Uri, e);
            }
            catch (HttpRequestException e)
            {
                throw _errors.Unreachable(_request.Uri, e);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                _answer.Dispose();
            }
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// A streamed body that survives a broken connection: a read that fails for a transient reason (the connection
    /// cut or stalled mid-body) waits as the one retry policy says and opens the body again from the byte it got to
    /// (a Range request), up to the policy's attempts, so a large layer copied between registries is not started
    /// over, nor the copy failed, by one dropped connection. The retry loop stays the transport's policy; this only
    /// carries it across the reads of one body.
    /// </summary>
    internal sealed class ResumingStream : Stream
    {
        private readonly Func<long, CancellationToken, Task<Stream>> _reopen;
        private readonly Func<TransientFailure, int, CancellationToken, Task> _wait;
        private readonly int _maxAttempts;
        private Stream _current;
        private long _offset;
        private int _failures;

        public ResumingStream(Stream first, Func<long, CancellationToken, Task<Stream>> reopen, Func<TransientFailure, int, CancellationToken, Task> wait, int maxAttempts)
        {
            _current = first;
            _reopen = reopen;
            _wait = wait;
            _maxAttempts = maxAttempts;
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            while (true)
            {
                try
                {
                    var n = await _current.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                    _offset += n;
                    return n;
                }
                catch (ImageToolsException e) when (RegistryFailure.Of(e)?.IsTransient == true && _failures + 1 < _maxAttempts)
                {
                    _failures++;
                    _current.Dispose();
                    await _wait(new TransientFailure(e.Reason, e), _failures, cancellationToken).ConfigureAwait(false);
                    _current = await _reopen(_offset, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _current.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _offset; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// A blob read from a registry, checked as it is read: at its end the bytes must have the digest (and the size)
    /// they were asked for, else the read fails with RegistryDigestMismatch before the last bytes are handed on, so
    /// a copy never finishes an upload of altered content.
    /// </summary>
    internal sealed class VerifiedBlobStream : Stream
    {
        private readonly Stream _inner;
        private readonly string _digest;
        private readonly long? _size;
        private readonly Func<string, Exception> _mismatch;
        private readonly IncrementalHash _hash;
        private long _read;
        private bool _checked;

        /// <param name="inner">The body as the registry sends it.</param>
        /// <param name="digest">What the bytes must hash to.</param>
        /// <param name="size">What their length must be; null: not checked.</param>
        /// <param name="mismatch">The error for content whose digest (the argument) is not the one asked for.</param>
        public VerifiedBlobStream(Stream inner, string digest, long? size, Func<string, Exception> mismatch)
        {
            _inner = inner;
            _digest = digest;
            _size = size;
            _mismatch = mismatch;
            _hash = IncrementalHash.CreateHash(digest.StartsWith("sha512:", StringComparison.Ordinal) ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);
        }

        public long BytesRead => _read;

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            var n = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            if (n > 0)
            {
                _hash.AppendData(buffer, offset, n);
                _read += n;
                if (_size.HasValue && _read > _size.Value) throw _mismatch($"more than its {_size.Value} bytes");
            }
            else if (!_checked)
            {
                _checked = true;
                var actual = _digest.Substring(0, _digest.IndexOf(':') + 1) + Hex(_hash.GetHashAndReset());
                if (actual != _digest) throw _mismatch(actual);
                if (_size.HasValue && _read != _size.Value) throw _mismatch($"{_read} bytes, not {_size.Value}");
            }
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        private static string Hex(byte[] bytes)
        {
            var chars = new char[bytes.Length * 2];
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
                chars[2 * i + 1] = "0123456789abcdef"[bytes[i] & 15];
            }
            return new string(chars);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                _hash.Dispose();
            }
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _size ?? throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
