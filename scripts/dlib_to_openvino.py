"""Builds the OpenVINO form of a dlib network from dlib's own description of it.

    dlib_to_openvino.py NETWORK.xml OUTPUT.xml

NETWORK.xml is what dlib's net_to_xml writes (`visage models --write-dlib-network`): one <layer>
per layer from the output down to the input, with every weight as text. The layers are read
bottom-up and turned into OpenVINO operations one by one, with dlib's semantics:

- `tag N` names the current output, `skip N` continues from the nearest tag N below, and
  `add_prev tag=N` adds the nearest tag N below. dlib adds tensors of different sizes by padding
  the smaller with zeros at the end of each axis (more channels on one side, or an odd size
  halved differently by a strided convolution and by average pooling); so does this.
- `con` is a cross-correlation with weights [filters, inputs, rows, columns] then a bias;
  `affine_con` a per-channel scale and shift; `fc_no_bias` a product with an [inputs, outputs]
  matrix; `avg_pool` with a size of 0 averages everything.
- `input_rgb_image_sized` subtracts the mean colour and divides by 256.

The network written takes chips as they are: N × rows × columns × RGB as floats 0–255, any N.
Only the layer types dlib's face networks use are understood; any other stops the conversion.
"""
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import openvino as ov
import openvino.opset13 as ops


def weights(element):
    return np.array(element.text.split(), dtype=np.float32)


def attribute(element, name):
    return int(element.get(name))


def output(node):
    return node if isinstance(node, ov.Output) else node.output(0)


def static_shape(node):
    """The shape with the batch axis as -1 and every other axis as its static length."""
    return [dim.get_length() if index else -1 for index, dim in enumerate(output(node).get_partial_shape())]


def pad_to(node, shape):
    """`node` zero-padded at the end of each axis to `shape`."""
    ends = [0] + [target - own for own, target in zip(static_shape(node)[1:], shape[1:])]
    if not any(ends):
        return node
    begins = np.zeros(len(ends), dtype=np.int64)
    return ops.pad(node, begins, np.array(ends, dtype=np.int64), "constant", np.float32(0))


def convert(source):
    layers = list(ElementTree.parse(source).getroot())
    tags = {}
    current = None
    parameter = None
    for layer in reversed(layers):
        kind = layer.get("type")
        if kind == "tag":
            tags[layer.get("id")] = current
            continue
        if kind == "skip":
            current = tags[layer.get("id")]
            continue
        if kind == "loss":
            continue
        (details,) = list(layer)
        name = details.tag
        if name == "input_rgb_image_sized":
            rows, columns = attribute(details, "nr"), attribute(details, "nc")
            parameter = ops.parameter([-1, rows, columns, 3], np.float32, name="chips")
            mean = np.array([float(details.get(c)) for c in "rgb"], dtype=np.float32)
            scaled = ops.multiply(ops.subtract(parameter, mean), np.float32(1 / 256))
            current = ops.transpose(scaled, np.array([0, 3, 1, 2], dtype=np.int64))
        elif name == "con":
            filters, rows, columns = attribute(details, "num_filters"), attribute(details, "nr"), attribute(details, "nc")
            inputs = static_shape(current)[1]
            values = weights(details)
            kernel_size = filters * inputs * rows * columns
            kernel = values[:kernel_size].reshape(filters, inputs, rows, columns)
            padding = [attribute(details, "padding_y"), attribute(details, "padding_x")]
            current = ops.convolution(current, kernel, [attribute(details, "stride_y"), attribute(details, "stride_x")],
                                      padding, padding, [1, 1])
            if details.get("use_bias") == "true":
                bias = values[kernel_size:kernel_size + filters]
                current = ops.add(current, bias.reshape(1, filters, 1, 1))
            elif len(values) != kernel_size:
                raise ValueError("con: unexpected number of weights")
        elif name == "affine_con":
            channels = static_shape(current)[1]
            values = weights(details)
            if len(values) != 2 * channels:
                raise ValueError("affine_con: unexpected number of weights")
            current = ops.add(ops.multiply(current, values[:channels].reshape(1, channels, 1, 1)),
                              values[channels:].reshape(1, channels, 1, 1))
        elif name == "relu":
            current = ops.relu(current)
        elif name in ("max_pool", "avg_pool"):
            rows, columns = attribute(details, "nr"), attribute(details, "nc")
            if rows == 0 and columns == 0:
                current = ops.reduce_mean(current, np.array([2, 3], dtype=np.int64), keep_dims=False)
                continue
            strides = [attribute(details, "stride_y"), attribute(details, "stride_x")]
            padding = [attribute(details, "padding_y"), attribute(details, "padding_x")]
            if name == "max_pool":
                current = ops.max_pool(current, strides, [1, 1], padding, padding, [rows, columns], "floor").output(0)
            else:
                if any(padding):
                    raise ValueError("avg_pool with padding is not supported")
                current = ops.avg_pool(current, strides, padding, padding, [rows, columns], True, "floor")
        elif name == "add_prev":
            other = tags[details.get("tag")]
            mine, theirs = static_shape(current), static_shape(other)
            shape = [-1] + [max(a, b) for a, b in zip(mine[1:], theirs[1:])]
            current = ops.add(pad_to(current, shape), pad_to(other, shape))
        elif name == "fc_no_bias":
            outputs = attribute(details, "num_outputs")
            matrix = weights(details)
            flat = ops.reshape(current, np.array([0, -1], dtype=np.int64), special_zero=True)
            inputs = static_shape(flat)[1]
            if len(matrix) != inputs * outputs:
                raise ValueError("fc_no_bias: unexpected number of weights")
            current = ops.matmul(flat, matrix.reshape(inputs, outputs), False, False)
        else:
            raise ValueError(f"layer type {name} is not supported")
    if parameter is None:
        raise ValueError("no input layer")
    output(current).get_tensor().set_names({"descriptors"})
    return ov.Model([current], [parameter], "dlib_face_embedding")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    model = convert(sys.argv[1])
    ov.save_model(model, sys.argv[2], compress_to_fp16=False)


if __name__ == "__main__":
    main()
