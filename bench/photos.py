"""A photo as a phone makes it, for the pictures benchmark, the benchmark's sites and the tests."""

import random


def phone_photo(width=4032, height=3024, seed=1):
    """A photo as a phone stores it, sideways: shapes and noise (so it compresses like a photo),
    a red block at the stored top-left corner (upright, 90° clockwise, it is at the top right);
    EXIF orientation 6, a camera and a GPS position. Returns (image, exif). The tests of the
    images plugin use it too."""
    from PIL import Image, ImageDraw
    from PIL.ExifTags import GPS, IFD, Base

    rnd = random.Random(seed)
    im = Image.effect_noise((width, height), 40).convert("RGB")
    draw = ImageDraw.Draw(im)
    for _ in range(300):
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.ellipse([x, y, x + rnd.randrange(60, 700), y + rnd.randrange(60, 700)],
                     fill=(rnd.randrange(40, 256), rnd.randrange(120, 256), rnd.randrange(256)))
    draw.rectangle([0, 0, width // 5, height // 5], fill=(255, 0, 0))
    exif = Image.Exif()
    exif[Base.Orientation] = 6
    exif[Base.Make] = "Telefoon"
    exif[Base.Model] = "Model 15"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef], gps[GPS.GPSLatitude] = "N", (53.0, 13.0, float(seed % 60))
    gps[GPS.GPSLongitudeRef], gps[GPS.GPSLongitude] = "E", (6.0, 34.0, 5.0)
    return im, exif
