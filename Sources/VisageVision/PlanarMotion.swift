import Foundation

/// How well one 2-D transform explains the movement of a face's landmarks between two frames.
///
/// Everything on a flat surface (a printed photo, a phone's screen) moves between two camera
/// frames by one homography, however the surface is moved, turned or tilted. A real head that
/// turns does not: the nose comes out of the face and the outline is where the head curves away,
/// so they slide against each other. The residual of the best homography, measured in
/// inter-ocular distances, separates the two; the residual of the best similarity (shift, scale,
/// in-plane rotation) tells whether the face changed shape at all.
public enum PlanarMotion {
    /// Root-mean-square distance between `to` and `from` mapped by the least-squares homography,
    /// over the inter-ocular distance in `to`. Both are the same 68 landmarks.
    public static func homographyResidual(from: [Point], to: [Point]) -> Double {
        guard from.count == to.count, from.count >= 8, let h = homography(from, to) else { return .infinity }
        return rms(from.map { apply(h, $0) }, to) / interOcular(to)
    }

    /// The same for the least-squares similarity transform.
    public static func similarityResidual(from: [Point], to: [Point]) -> Double {
        guard from.count == to.count, from.count >= 2 else { return .infinity }
        let n = Double(from.count)
        let fx = from.reduce(0) { $0 + $1.x } / n, fy = from.reduce(0) { $0 + $1.y } / n
        let tx = to.reduce(0) { $0 + $1.x } / n, ty = to.reduce(0) { $0 + $1.y } / n
        // Closed form: the complex ratio that best maps centred `from` onto centred `to`.
        var a = 0.0, b = 0.0, norm = 0.0
        for (p, q) in zip(from, to) {
            let px = p.x - fx, py = p.y - fy, qx = q.x - tx, qy = q.y - ty
            a += px * qx + py * qy
            b += px * qy - py * qx
            norm += px * px + py * py
        }
        guard norm > 0 else { return .infinity }
        a /= norm
        b /= norm
        let mapped = from.map { p in Point(x: tx + a * (p.x - fx) - b * (p.y - fy), y: ty + b * (p.x - fx) + a * (p.y - fy)) }
        return rms(mapped, to) / interOcular(to)
    }

    /// Distance between the eye centres (landmarks 36–41 and 42–47); 1 when they coincide.
    static func interOcular(_ points: [Point]) -> Double {
        guard points.count >= 48 else { return 1 }
        func centre(_ range: Range<Int>) -> Point {
            Point(x: range.reduce(0) { $0 + points[$1].x } / Double(range.count), y: range.reduce(0) { $0 + points[$1].y } / Double(range.count))
        }
        let l = centre(36..<42), r = centre(42..<48)
        return max(1, hypot(l.x - r.x, l.y - r.y))
    }

    static func rms(_ a: [Point], _ b: [Point]) -> Double {
        (zip(a, b).reduce(0) { $0 + ($1.0.x - $1.1.x) * ($1.0.x - $1.1.x) + ($1.0.y - $1.1.y) * ($1.0.y - $1.1.y) } / Double(a.count))
            .squareRoot()
    }

    static func apply(_ h: [Double], _ p: Point) -> Point {
        let w = h[6] * p.x + h[7] * p.y + h[8]
        guard abs(w) > 1e-12 else { return Point(x: .infinity, y: .infinity) }
        return Point(x: (h[0] * p.x + h[1] * p.y + h[2]) / w, y: (h[3] * p.x + h[4] * p.y + h[5]) / w)
    }

    /// Normalised direct linear transform: both point sets moved to their centroid and scaled to
    /// a mean distance of √2, the 9 entries taken as the eigenvector of AᵀA with the smallest
    /// eigenvalue, and the normalisation undone. Row-major 3×3.
    static func homography(_ from: [Point], _ to: [Point]) -> [Double]? {
        guard let tf = normalisation(from), let tt = normalisation(to) else { return nil }
        var ata = [Double](repeating: 0, count: 81)
        for (p, q) in zip(from, to) {
            let x = tf.scale * (p.x - tf.cx), y = tf.scale * (p.y - tf.cy)
            let u = tt.scale * (q.x - tt.cx), v = tt.scale * (q.y - tt.cy)
            let rows: [[Double]] = [[-x, -y, -1, 0, 0, 0, u * x, u * y, u], [0, 0, 0, -x, -y, -1, v * x, v * y, v]]
            for row in rows {
                for i in 0..<9 where row[i] != 0 { for j in 0..<9 { ata[i * 9 + j] += row[i] * row[j] } }
            }
        }
        let n = smallestEigenvector(ata, size: 9)
        // H = Tto⁻¹ · N · Tfrom, with T = [[s, 0, -s·cx], [0, s, -s·cy], [0, 0, 1]].
        let tFrom: [Double] = [tf.scale, 0, -tf.scale * tf.cx, 0, tf.scale, -tf.scale * tf.cy, 0, 0, 1]
        let toInverse: [Double] = [1 / tt.scale, 0, tt.cx, 0, 1 / tt.scale, tt.cy, 0, 0, 1]
        return multiply(toInverse, multiply(n, tFrom))
    }

    static func normalisation(_ points: [Point]) -> (cx: Double, cy: Double, scale: Double)? {
        let n = Double(points.count)
        let cx = points.reduce(0) { $0 + $1.x } / n, cy = points.reduce(0) { $0 + $1.y } / n
        let mean = points.reduce(0) { $0 + hypot($1.x - cx, $1.y - cy) } / n
        guard mean > 1e-9 else { return nil }
        return (cx, cy, 2.0.squareRoot() / mean)
    }

    static func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
        var c = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { c[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j] } } }
        return c
    }

    /// Cyclic Jacobi rotations on a symmetric matrix; the eigenvector of the smallest eigenvalue.
    static func smallestEigenvector(_ matrix: [Double], size n: Int) -> [Double] {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<60 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
            if off < 1e-22 { break }
            for p in 0..<n {
                for q in (p + 1)..<n where abs(a[p * n + q]) > 1e-300 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let smallest = (0..<n).min { a[$0 * n + $0] < a[$1 * n + $1] } ?? 0
        return (0..<n).map { v[$0 * n + smallest] }
    }
}
