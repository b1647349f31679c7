using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ComputeBroker.Server.Api;

/// <summary>The request's body as text: read whole from the request's pipe and decoded as UTF-8 once.</summary>
/// <remarks>
/// Every submit and every provider answer passes here: a <see cref="StreamReader"/> per request allocated its own byte
/// and char buffers and a builder before the string itself. A UTF-8 byte-order mark is dropped, as the reader did;
/// bytes that are not UTF-8 become U+FFFD, as they did. Kestrel's request-size limit applies as it does to any read.
/// </remarks>
internal static class RequestText
{
    private static readonly byte[] ByteOrderMark = [0xEF, 0xBB, 0xBF];

    public static async Task<string> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(ct);
            if (read.IsCompleted || read.IsCanceled)
            {
                var body = read.Buffer;
                if (body.Length >= ByteOrderMark.Length && StartsWithByteOrderMark(body))
                {
                    body = body.Slice(ByteOrderMark.Length);
                }

                var text = Encoding.UTF8.GetString(body);
                reader.AdvanceTo(read.Buffer.End);
                return text;
            }

            // Nothing consumed until the whole body is in: the pipe keeps it and reads on.
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static bool StartsWithByteOrderMark(ReadOnlySequence<byte> body)
    {
        Span<byte> first = stackalloc byte[3];
        body.Slice(0, first.Length).CopyTo(first);
        return first.SequenceEqual(ByteOrderMark);
    }
}
