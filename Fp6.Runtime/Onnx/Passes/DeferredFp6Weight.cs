using Fp6.Runtime.Onnx.Proto;
using Fp6.Runtime.Quantization;

namespace Fp6.Runtime.Onnx.Passes;

/// <summary>
/// A weight that is quantized only when its packed codes or scales are first written, and forgotten once both have
/// been: a converter that writes the model streams one matrix at a time through memory.
/// </summary>
internal sealed class DeferredFp6Weight(InitializerData source, Fp6WeightLayout layout, int rows, int cols, string name)
{
    private readonly Lock _lock = new();
    private Fp6PackedWeight? _packed;
    private int _partsWritten;

    public InitializerData PackedData => new Part(this, isScales: false, [layout.PackedByteCount(rows, cols)]);

    public InitializerData ScalesData => new Part(this, isScales: true, [rows]);

    private void Write(bool isScales, Stream destination)
    {
        Fp6PackedWeight packed;
        lock (_lock)
        {
            packed = _packed ??= Fp6MatrixQuantizer.Quantize(rows, cols, source.ReadColumn, layout, name);
        }

        if (isScales)
        {
            destination.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(packed.Scales.AsSpan()));
        }
        else
        {
            destination.Write(packed.Packed);
        }

        lock (_lock)
        {
            if (++_partsWritten % 2 == 0)
            {
                _packed = null;
            }
        }
    }

    private sealed class Part(DeferredFp6Weight owner, bool isScales, long[] dims) : InitializerData
    {
        private readonly long[] _dims = dims;

        public override TensorProto.Types.DataType ElementType => isScales ? TensorProto.Types.DataType.Float16 : TensorProto.Types.DataType.Uint8;

        public override IReadOnlyList<long> Dims => _dims;

        public override void WriteTo(Stream destination) => owner.Write(isScales, destination);

        public override void ReadColumn(int column, Span<float> destination) => throw new NotSupportedException("Packed FP6 data has no float columns.");
    }
}
