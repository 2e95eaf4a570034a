# ruff: noqa: E501  (word lists)
"""Word lists for names and addresses in the corridor's languages (common surnames, given
names, titles and address markers). Written from general knowledge of naming customs."""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


CN_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦"
    "俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房"
    "滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应"
    "臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
CN_COMPOUND_SURNAMES = frozenset(
    (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
    )
)
# Characters common in given names; a string of a surname plus such characters is a name.
CN_GIVEN = frozenset(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国文志海小晓宇浩子欣婷雪梅琳晶燕"
    "鹏辉飞鑫斌波宁俊峰龙林凯丹萍颖倩婧璐瑶怡佳嘉琪慧莉霖凤云莹洁瑞然欢亮新春晨阳光宏成博轩睿"
    "哲泽昊宸铭天思雨涵梓萱诗彤妍可馨悦雅琦婉蕾芸薇嫣晗昕曦月星兴德福禄寿贵荣昌盛庆喜安康永长"
    "旭东中正义仁礼信忠孝勤良善美真淑贤惠娴雯霏璇瑾瑜琴珍珠宝金银钢立伦力武彬彪豪雄威振民生利"
    "兵卫煌晖朗坤乾元鸿瀚渊源泉清淳澄沛洪江河川山岩石松柏桦杨柳桃杏竹菊荷莲芝芬菲蓉芷蕊茜艾"
    "娥媛娇妹姗姝娅妮青翠碧紫彩琼瑛环琛琰琬锦绣纯冬霜露虹晴昭晟时景智聪茂发财富家邦耀灿淼森"
    "鹤鸣雁设达通顺宁念恩桂冬秋夏春亚男女一二三四大少世永庭廷汉俊彦帅斌杰翔宇航楠柯晋毅坚"
    "敬恒昆仑鑫凡帆岚越跃悦乐诚承君珊蓓蔚菁萌莎娴璟琨珏祥瑶霄鹃凌琦舒舟卓佩佑俐伶倩宜宣秀"
    "健康振宏培彤锋铭钧锐键淑媚娉婕娴妍嫣媛姣晶曼蓉蕴鸣楷榕桐梓楠枫松柏岳峻崇嵩巍翰墨书"
    "晨曦朝旭昊晟暄瑞祺祯禧福祥弘宇宙轩辰星月云霞露冰清源渊泽润涵沐洋浩淳澜漫溪"
)
CN_NAME_MARKERS = (
    "收件人",
    "收货人",
    "联系人",
    "姓名",
    "寄件人",
    "客户",
    "买家",
    "签收人",
    "收件",
    "交给",
    "转交",
)
# Characters that end a name after a marker ("收货人黎彧已签收"): verbs, particles, titles.
CN_NAME_STOPS = frozenset("已的请收签代电手先女小门在于与和及等到将为是")
CN_NAME_SUFFIXES = ("先生", "女士", "小姐")

VN_SURNAMES = frozenset(
    (
        "Nguyễn",
        "Trần",
        "Lê",
        "Phạm",
        "Hoàng",
        "Huỳnh",
        "Phan",
        "Vũ",
        "Võ",
        "Đặng",
        "Bùi",
        "Đỗ",
        "Hồ",
        "Ngô",
        "Dương",
        "Lý",
        "Đào",
        "Đoàn",
        "Vương",
        "Trịnh",
        "Trương",
        "Lâm",
        "Phùng",
        "Mai",
        "Tô",
        "Tạ",
        "Hà",
        "Châu",
        "Cao",
        "Lương",
        "Lưu",
        "Đinh",
        "Quách",
        "Thái",
        "Kiều",
        "Tăng",
        "Từ",
        "La",
        "Hứa",
        "Triệu",
        "Khúc",
        "Kim",
        "Thân",
        "Chu",
        "Lục",
        "Lò",
        "Giang",
        "Doãn",
        "Ông",
        "Tôn",
        "Nghiêm",
        "Âu",
        "Diệp",
        "Lã",
        "Mạc",
        "Văn",
        "Quan",
        "Bạch",
        "Phó",
    )
)
VN_TITLES = ("anh", "chị", "ông", "bà", "cô", "chú", "bác", "em")
VN_MIDDLE = frozenset(
    (
        "Văn",
        "Thị",
        "Hữu",
        "Đức",
        "Minh",
        "Ngọc",
        "Thanh",
        "Quốc",
        "Xuân",
        "Hoàng",
        "Công",
        "Gia",
        "Kim",
        "Bảo",
        "Thu",
        "Mỹ",
        "Quang",
        "Trọng",
    )
)
# Places that begin like a surname ("Hà Nội", "Hồ Chí Minh").
VN_PLACES = (
    "Hà Nội",
    "Hồ Chí Minh",
    "Hà Giang",
    "Hà Tĩnh",
    "Hà Nam",
    "Hà Đông",
    "Cao Bằng",
    "Lâm Đồng",
    "Thái Bình",
    "Thái Nguyên",
    "Châu Đốc",
    "Phan Thiết",
    "Phan Rang",
    "Mai Châu",
    "Lục Ngạn",
    "Kim Bảng",
    "La Gi",
    "Hồ Tây",
    "Giang Nam",
    "Lê Chân",
    "Tô Lịch",
    "Đồng Nai",
    "Hồ Gươm",
    "Hà Tiên",
    "Kiều Mai",
    "Lương Sơn",
)

TH_TITLES = ("นางสาว", "นาง", "นาย", "คุณ", "น.ส.", "ด.ช.", "ด.ญ.")
# Words that merely start with a title ("คุณภาพ" = quality).
TH_NOT_NAMES = ("ภาพ", "สมบัติ", "ค่า", "หน้า", "ฟ้า", "แบบ", "ทุน", "จ้าง", "ธรรม", "ประโยชน์")
# Common Thai given names: a given name followed by a surname is a name without a title.
TH_GIVEN = frozenset(
    _words(
        """
        สมชาย สมศักดิ์ สมศรี สมหญิง สมพร สมพงษ์ สมบูรณ์ สมเกียรติ สมควร สมปอง สมจิตร สมใจ
        วิชัย วิชิต วิไล วิมล วิภา วิทยา วีระ วีรพงษ์ ประเสริฐ ประสิทธิ์ ประยุทธ ประภา ประพันธ์
        สุภาพร สุนทร สุนีย์ สุดา สุมาลี สุรชัย สุริยา สุวิทย์ สุชาติ สุรศักดิ์ สุพัตรา สุทธิพงษ์
        กาญจนา กนกวรรณ กมล กิตติ กิตติพงษ์ กิตติศักดิ์ ณัฐพล ณัฐวุฒิ ณัฐธิดา ณัฐพงษ์ ธนากร ธนพล
        ธนวัฒน์ ธีรวัฒน์ ธีระ ธวัชชัย พิมพ์ชนก พิมพ์ลดา พรทิพย์ พรรณี พัชรี พิชัย พงศกร
        อรุณี อรทัย อนุชา อนันต์ อภิชาติ อัญชลี อำนาจ นภัสสร นพดล นิพนธ์ นิตยา นงลักษณ์
        จิราพร จิรายุ จันทร์เพ็ญ จารุวรรณ จักรพันธ์ วรรณา วรวุฒิ วนิดา วาสนา ชัยวัฒน์ ชัยยุทธ
        ชนิดา ชุติมา ชาญชัย ปิยะนุช ปิยะพงษ์ ปรีชา ปราณี ปวีณา ศิริพร ศิริชัย ศักดิ์ชัย ศุภชัย
        รัตนา รุ่งนภา เรณู ลำดวน ละเอียด บุญชัย บุญมี บุญเลิศ บุษบา มาลี มานพ เยาวลักษณ์
        ยุทธนา ยุพิน อุไรวรรณ เอกชัย ไพโรจน์ ไพศาล ดวงใจ ดารุณี ทวีศักดิ์ ทองใบ ทิพวรรณ
        เกศินี เพ็ญศรี แสงเดือน สายสุนีย์ หทัยรัตน์ อดิศักดิ์ อิทธิพล ภานุวัฒน์ ภัทรา ภูมิพัฒน์
        """
    )
)
# Pieces of everyday phrases, goods and places: a two-word Thai value holding one is no name.
TH_NOT_NAME_WORDS = tuple(
    _words(
        """
        ของ ระวัง ด้วย ส่ง สินค้า กรุณา ไม่ ที่ เวลา ทำการ แตก ง่าย บริษัท จำกัด จังหวัด
        อำเภอ ตำบล ถนน ซอย หมู่บ้าน กรุงเทพ มหานคร ประเทศ ไทย ราคา ชิ้น กล่อง ถุง ขวด
        และ หรือ กับ ให้ ได้ แล้ว ก่อน หลัง วัน เดือน ปี ครับ ค่ะ ขอบคุณ โทร ฝาก ไว้ รับ
        ยาม ประตู ชั้น ห้อง อาคาร ตึก ตลาด ร้าน โรงแรม โรงเรียน มหาวิทยาลัย วัด สาขา
        ผ้า ข้าว น้ำ อาหาร ผลไม้ เสื้อ รองเท้า กระเป๋า ยา เครื่อง ชุด
        """
    )
)
# Words before a name that introduce a person (untitled Thai names).
TH_PERSON_CUES = ("ผู้รับ", "ส่งให้", "ติดต่อ", "ชื่อ", "ถึง", "ผู้ส่ง", "ผู้ติดต่อ", "ลูกค้า")

LATIN_TITLES = (
    "Mr",
    "Mrs",
    "Ms",
    "Miss",
    "Mdm",
    "Madam",
    "Dr",
    "Encik",
    "En",
    "Cik",
    "Puan",
    "Pn",
    "Tuan",
    "Tn",
    "Datuk",
    "Dato",
    "Datin",
    "Bapak",
    "Pak",
    "Ibu",
    "Bu",
    "Sdr",
    "Sdri",
    "Saudara",
    "Saudari",
    "Haji",
    "Hajjah",
)
LATIN_NAMES = frozenset(
    _words(
        # Indonesian and Malay
        "Budi Siti Dewi Agus Sri Wahyu Putri Rina Yuni Eko Joko Bambang Hendra Andi Dian Indah Ayu "
        "Fitri Nur Nurul Ahmad Muhammad Mohd Mohamad Rizky Fajar Dedi Rudi Irwan Hadi Slamet Suharto "
        "Santoso Wijaya Hidayat Saputra Kurniawan Setiawan Pratama Nugroho Susanto Lestari Rahayu "
        "Wulandari Purnomo Gunawan Halim Siregar Nasution Simanjuntak Hutapea Sitompul Harahap Lubis "
        "Hasibuan Situmorang Sinaga Tanjung Sihombing Wibowo Utomo Prasetyo Permana Firmansyah "
        "Ramadhan Hakim Haryanto Suryadi Sulistyo Yulianti Handayani Kusuma Maharani Anggraini "
        "Puspita Safitri Utami Nuraini Hartono Iskandar Sutrisno Widodo Susilo Yusuf Abdul Aziz "
        "Ismail Ibrahim Hassan Hussein Husin Rahman Razak Yusof Othman Osman Aminah Fatimah Zainal "
        "Zulkifli Hafiz Aisyah Farah Amir Azman Rosli Kamal Rashid Nasir Salleh Hamid Jamal Latif "
        "Syafiq Aiman Danial Hakimi Izzat Nabila Syahirah Amirah Aqilah Balqis Hidayah Intan Kartika "
        "Lina Mega Novi Oktavia Ratna Sari Tri Wati Yanti Yogi Bayu Dimas Galih Gilang Hendro Imam "
        "Krisna Lukman Made Nyoman Ketut Wayan Putu Komang Gede Ratih Setiadi Sugiarto Tanoto "
        # Romanised Chinese surnames of Singapore and Malaysia
        "Tan Lim Lee Ng Ong Wong Goh Chua Chan Koh Teo Ang Yeo Tay Ho Low Toh Sim Chong Chia Lau "
        "Leong Foo Yap Loh Quek Heng Seah Tham Kwok Liew Chin Cheong Teh Tee Phua Poh "
        "Wei Ming Hui Jun Jie Ling Mei Xin Yi Zhi Kai Hao "
        # Indian Malaysian / Singaporean
        "Kumar Raj Rajesh Ravi Suresh Ramesh Ganesh Murugan Devi Priya Lakshmi Kavitha Selvi Arun "
        # Common English given names
        "John James Michael David Robert William Richard Joseph Thomas Charles Daniel Matthew "
        "Anthony Mark Paul Steven Andrew Kenneth Kevin Brian George Edward Jason Peter Ryan Eric "
        "Mary Jennifer Linda Elizabeth Susan Jessica Sarah Karen Nancy Lisa Margaret Sandra Ashley "
        "Emily Michelle Amanda Melissa Rebecca Laura Rachel Grace Emma Olivia Sophia Chloe Alice "
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Moore Jackson "
        "Martin Thompson White Harris Clark Lewis Walker Hall Allen Young King Wright Scott "
        "Green"
    )
)
# Capitalised words that mark a run as a business or a place, not a person.
LATIN_STOP = frozenset(
    [
        "Express",
        "Logistics",
        "Co",
        "Ltd",
        "Company",
        "Corp",
        "Inc",
        "Limited",
        "Sdn",
        "Bhd",
        "Pte",
        "PT",
        "Tbk",
        "CV",
        "Store",
        "Shop",
        "Mall",
        "Street",
        "St",
        "Road",
        "Rd",
        "Avenue",
        "Ave",
        "Jalan",
        "Jln",
        "Jl",
        "Lorong",
        "Taman",
        "Kampung",
        "Kg",
        "Lane",
        "Drive",
        "Blk",
        "Block",
        "Warehouse",
        "Port",
        "Airport",
        "Terminal",
        "Hub",
        "Centre",
        "Center",
        "Market",
        "Trading",
        "Group",
        "Holdings",
        "Global",
        "International",
        "Industries",
        "Electronics",
        "Bank",
        "Post",
        "Parcel",
        "Cargo",
        "Freight",
        "Shipping",
        "Services",
        "Bluetooth",
        "Wireless",
        "Phone",
        "Case",
        "Cable",
        "Charger",
        "Shirt",
        "Dress",
        "Shoes",
        "Tea",
        "Coffee",
        "Rice",
        "Bag",
        "Watch",
        "Singapore",
        "Malaysia",
        "Indonesia",
        "Thailand",
        "Vietnam",
        "Viet",
        "Nam",
        "China",
        "Philippines",
        "Bangkok",
        "Jakarta",
        "Kuala",
        "Lumpur",
        "Hanoi",
        "Nanning",
        "Guangxi",
        "Johor",
        "Penang",
        "Surabaya",
        "Bandung",
        "Medan",
        "Batam",
        "Manila",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Please",
        "Call",
        "Deliver",
        "Delivery",
        "Order",
        "Ship",
        "Shipment",
        "Item",
        "Items",
        "Box",
        "Fragile",
        "Handle",
        "With",
        "Care",
        "Leave",
        "Door",
        "Gate",
        "Kota",
        "Provinsi",
        "Kabupaten",
        "Kecamatan",
        "Kelurahan",
        "Desa",
        "Gang",
        "Gg",
        "Blok",
        "Raya",
        "No",
        "Lot",
        "Unit",
        "Level",
        "Floor",
        "Tower",
        "Plaza",
        "Park",
        "Garden",
        "Gardens",
        "Heights",
        "Residence",
        "Apartment",
        "Apt",
        "Building",
        "Bldg",
        "Estate",
        "Industrial",
    ]
)

# Address markers. A string (or clause) with two or more distinct markers is an address.
CN_ADDRESS_ADMIN = "省市区县镇乡旗"
CN_ADDRESS_STREET = (
    "路",
    "街",
    "大道",
    "巷",
    "弄",
    "号",
    "村",
    "栋",
    "幢",
    "单元",
    "室",
    "楼",
    "小区",
    "花园",
    "苑",
    "大厦",
)
VN_ADDRESS = (
    "số",
    "đường",
    "phố",
    "phường",
    "quận",
    "huyện",
    "xã",
    "thị xã",
    "thị trấn",
    "tỉnh",
    "thành phố",
    "tp.",
    "tp",
    "ngõ",
    "ngách",
    "hẻm",
    "thôn",
    "ấp",
    "khu phố",
    "kp.",
    "tổ",
    "khu",
    "tòa nhà",
    "chung cư",
    "lô",
)
TH_ADDRESS = (
    "ถนน",
    "ถ.",
    "ซอย",
    "ซ.",
    "ตำบล",
    "ต.",
    "แขวง",
    "อำเภอ",
    "อ.",
    "เขต",
    "จังหวัด",
    "จ.",
    "หมู่",
    "ม.",
    "หมู่บ้าน",
    "บ้านเลขที่",
    "กรุงเทพ",
)
LATIN_ADDRESS = (
    "jalan",
    "jln",
    "jl",
    "gg",
    "gang",
    "lorong",
    "lrg",
    "taman",
    "kampung",
    "kg",
    "kelurahan",
    "kel",
    "kecamatan",
    "kec",
    "kabupaten",
    "kab",
    "kota",
    "provinsi",
    "rt",
    "rw",
    "blok",
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "blk",
    "lane",
    "drive",
    "dr",
    "crescent",
    "boulevard",
    "blvd",
    "hwy",
    "highway",
    "pkwy",
    "parkway",
    "terrace",
    "persiaran",
    "lebuh",
    "lebuhraya",
    "desa",
    "perumahan",
    "apartment",
    "apt",
    "unit",
    "suite",
    "floor",
    "singapore",
)
