"""Demo articles: a dozen known issues of the demo's lamps and furniture (closeloop/demo/data/products.json),
as technical support writes them. Idempotent: an article of the same title is kept."""

from __future__ import annotations

from closeloop.directory.models import ProductLine
from closeloop.knowledge.models import Article
from closeloop.knowledge.search import search_text

# (line, title, models, symptoms, cause, steps, tags, published)
ARTICLES = [
    (
        "ceiling",
        "吸顶灯开灯后闪烁或频闪",
        "XD-1001 XD-1002",
        "开灯后灯光一闪一闪，或用手机摄像头对着灯能看到明显条纹。",
        "驱动电源老化或与灯板接触不良；少数批次驱动电源元件虚焊。",
        [
            "关闭墙壁开关并断电 5 分钟后再开，排除瞬时电压波动。",
            "确认墙壁开关不是带指示灯的开关（带灯开关会有微电流导致闪烁）。",
            "断电后打开灯罩，检查驱动电源与灯板之间的插头是否插紧。",
            "仍闪烁的，登记售后更换驱动电源（保修期内免费）。",
        ],
        ["闪烁", "驱动电源", "频闪"],
        True,
    ),
    (
        "ceiling",
        "智能调光吸顶灯无法连接 App",
        "XD-1003",
        "App 搜索不到灯具，或配网进行到一半失败。",
        "灯具未进入配网模式，或手机连接的是 5GHz Wi-Fi。",
        [
            "确认手机连接的是 2.4GHz Wi-Fi，并打开手机定位权限。",
            "用墙壁开关连续开关 5 次（开-关间隔约 1 秒），灯光快速闪烁即进入配网模式。",
            "在 App 中选择“添加设备-照明-吸顶灯”，按提示输入 Wi-Fi 密码。",
            "仍失败的，记录路由器型号后转技术支持远程协助。",
        ],
        ["智能", "配网", "App"],
        True,
    ),
    (
        "ceiling",
        "阳台吸顶灯灯罩内有水汽",
        "XD-1005",
        "雨后或早晨灯罩内有雾气、水珠。",
        "灯罩密封圈未压紧，或安装时出线孔未做防水处理。",
        [
            "断电后取下灯罩，擦干内部水汽并晾干 24 小时。",
            "检查密封圈是否完整、是否装在卡槽内。",
            "出线孔用随附的防水胶塞封堵。",
            "密封圈破损的，登记寄送新密封圈。",
        ],
        ["防水", "水汽", "阳台"],
        True,
    ),
    (
        "desk-lamp",
        "护眼台灯触控按键不灵敏",
        "TD-1001 TD-1004",
        "轻触按键没有反应，或需要按很多次才开灯。",
        "手指潮湿或戴手套；底座放在金属桌面上导致感应基准漂移。",
        [
            "擦干手指后用指腹（而非指尖）轻触按键 1 秒。",
            "将台灯从金属桌面移开，拔下电源 10 秒后重新插上，台灯会重新校准。",
            "仍不灵敏的，登记返修检测触控板。",
        ],
        ["触控", "按键"],
        True,
    ),
    (
        "desk-lamp",
        "折叠充电台灯续航变短",
        "TD-1002",
        "充满电后使用时间明显短于说明书的 8 小时。",
        "长期在最高亮度下使用，或电池长期满电存放导致衰减。",
        [
            "用原装适配器充电至指示灯变绿，再连续充 1 小时。",
            "使用中档亮度，续航应在 6 小时以上。",
            "购买 1 年内续航低于 3 小时的，登记更换电池。",
        ],
        ["电池", "续航", "充电"],
        True,
    ),
    (
        "downlight",
        "筒灯开孔尺寸与旧灯不符",
        "TG-1001 TG-1002",
        "装修后更换筒灯，新灯放不进吊顶的开孔，或开孔过大挡不住。",
        "不同品牌筒灯开孔尺寸不同（本款开孔 75mm）。",
        [
            "用卷尺测量吊顶现有开孔的直径。",
            "开孔小于 75mm 的，请电工用开孔器扩孔。",
            "开孔大于 85mm 的，可购买配套的转换面圈，或改选大开孔型号。",
        ],
        ["安装", "开孔"],
        True,
    ),
    (
        "pendant",
        "水晶吊灯部分灯头不亮",
        "DD-1001",
        "8 个灯头中有一两个不亮，其余正常。",
        "灯泡松动或损坏；运输中灯头接线松脱。",
        [
            "断电，将不亮的灯泡与正常灯头的灯泡互换测试。",
            "换过去亮的，说明原灯泡损坏，登记寄送灯泡。",
            "换过去仍不亮的，是灯头接线问题，请勿自行拆修，登记上门维修。",
        ],
        ["不亮", "灯头", "上门"],
        True,
    ),
    (
        "floor-lamp",
        "遥控落地灯遥控器失灵",
        "LD-1001",
        "按遥控器落地灯没有反应，灯身开关正常。",
        "遥控器电池电量不足，或遥控器与灯未对码。",
        [
            "更换遥控器纽扣电池（CR2032）。",
            "灯通电后 10 秒内长按遥控器“开”键 5 秒，灯闪两下即对码成功。",
            "仍无反应的，登记寄送新遥控器。",
        ],
        ["遥控器", "对码"],
        True,
    ),
    (
        "sofa",
        "科技布沙发表面起球",
        "SF-1003",
        "使用几个月后坐垫表面出现小毛球。",
        "科技布与衣物摩擦产生的正常起球，不影响使用；大面积起球可能是面料批次问题。",
        [
            "用毛球修剪器沿同一方向轻轻修剪，切勿用手拉扯。",
            "日常用软毛刷清洁，避免粗糙面料衣物长时间摩擦。",
            "购买半年内大面积起球的，拍照登记，由品质部判定是否为面料问题。",
        ],
        ["起球", "面料", "清洁"],
        True,
    ),
    (
        "mattress",
        "新床垫有气味",
        "CD-1001 CD-1002",
        "拆封后床垫有明显气味。",
        "包装密封后残留的胶水和面料气味，一般 7–15 天散尽。",
        [
            "拆除全部包装膜，竖放在通风处。",
            "保持室内通风 7 天，可放置活性炭包。",
            "15 天后仍有刺激性气味的，登记送检（甲醛检测报告可向客服索取）。",
        ],
        ["气味", "甲醛", "通风"],
        True,
    ),
    (
        "wardrobe",
        "推拉门衣柜门推不动或脱轨",
        "YG-1001",
        "推拉门很沉、卡顿，或下轨道滑轮脱出。",
        "轨道内有杂物；门板高度未调平。",
        [
            "清理上下轨道内的灰尘和杂物。",
            "用内六角扳手调节门板底部的调节螺丝，使两扇门缝隙均匀、高度一致。",
            "滑轮破损或仍脱轨的，登记上门调整。",
        ],
        ["推拉门", "滑轮", "安装"],
        True,
    ),
    (
        "office-chair",
        "人体工学椅座椅自动下沉",
        "BY-1001",
        "坐一会儿座椅高度慢慢下降。",
        "气压棒漏气。",
        [
            "将椅子调到最高后坐下，观察 10 分钟高度是否下降。",
            "确认下沉后，登记更换气压棒（保修 3 年）。",
            "更换前可用随附的限位卡箍临时固定高度。",
        ],
        ["气压棒", "下沉"],
        False,
    ),
]


def demo_articles() -> int:
    """Creates the demo articles that are missing; returns how many were created."""
    lines = {line.code: line for line in ProductLine.objects.all()}
    created = 0
    for code, title, models, symptoms, cause, steps, tags, published in ARTICLES:
        if Article.objects.filter(title=title).exists():
            continue
        Article.objects.create(
            product_line=lines.get(code),
            title=title,
            models_text=models,
            symptoms=symptoms,
            cause=cause,
            steps=steps,
            tags=tags,
            is_published=published,
            search_text=search_text(title=title, symptoms=symptoms, cause=cause, steps=steps, tags=tags, models=models),
        )
        created += 1
    return created
